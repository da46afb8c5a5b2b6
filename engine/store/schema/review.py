"""Tables of sampling and review: sample runs, candidates, preference pairs, cleaning.

``candidates.params`` holds the (D,) float32 parameter vector of one hypothesis;
``candidates.errors`` its errors against the person's 3D label, a JSON object keyed by
metric name (``engine.metric_registry``: mpjpe, pa_mpjpe, pve in mm, and any metric
registered later, with no schema change), null where no label exists.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.schema.base import PAIR_SOURCES, PAIR_STATUSES, Base, one_of, utcnow


class SampleRun(Base):
    __tablename__ = "sample_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="SET NULL")
    )
    seed: Mapped[int]
    m: Mapped[int]
    steps: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The level the samples started from the person's fit at (0: from noise; null: a run
    # made before this was recorded, from noise).
    fit_start: Mapped[float | None]


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("run_id", "idx"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sample_runs.id", ondelete="CASCADE"))
    idx: Mapped[int]
    params: Mapped[bytes] = mapped_column(LargeBinary)
    score: Mapped[float | None]
    errors: Mapped[dict[str, float] | None] = mapped_column(JSON)


class Pair(Base):
    __tablename__ = "pairs"
    __table_args__ = (
        UniqueConstraint("winner_id", "loser_id"),
        CheckConstraint("winner_id != loser_id", name="distinct"),
        one_of("source", PAIR_SOURCES, "source"),
        one_of("status", PAIR_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    winner_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    loser_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String, default="proposed", index=True)
    margin: Mapped[float | None]
    who: Mapped[str | None] = mapped_column(String)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CleaningRun(Base):
    __tablename__ = "cleaning_runs"
    __table_args__ = (
        CheckConstraint("(keep_fraction IS NULL) != (threshold IS NULL)", name="one_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    checkpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="SET NULL")
    )
    keep_fraction: Mapped[float | None]
    threshold: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CleaningDecision(Base):
    __tablename__ = "cleaning_decisions"
    __table_args__ = (UniqueConstraint("run_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("cleaning_runs.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    score: Mapped[float]
    auto_keep: Mapped[bool]
    override: Mapped[bool | None]
    who: Mapped[str | None] = mapped_column(String)
    decided_at: Mapped[datetime | None]
