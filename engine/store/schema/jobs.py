"""Tables of background work and of the undo history.

``jobs.status`` is stored as queued, running, cancel_requested (another process asked the
running job to stop), done, failed or cancelled; a 'running' row whose process died is
reported as crashed by ``engine.jobs`` but never stored as such. Metrics are one row per
report in ``job_metrics`` so that a long training run appends instead of rewriting a
growing JSON document.

``actions`` is the undo history of manual decisions: ``old_value`` / ``new_value`` are the
changed columns of one row as JSON objects (``old_value`` is null for an inserted row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.schema.base import JOB_STATUSES, Base, one_of, utcnow


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (one_of("status", JOB_STATUSES, "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String, default="queued", index=True)
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(String, default="")
    log: Mapped[str] = mapped_column(Text, default="")
    outputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(String)
    heartbeat: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobMetric(Base):
    __tablename__ = "job_metrics"
    __table_args__ = (UniqueConstraint("job_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int]
    fraction: Mapped[float]
    metrics: Mapped[dict[str, float | None]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (one_of("op", ("update", "insert"), "op"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String)
    row_id: Mapped[int]
    op: Mapped[str] = mapped_column(String, default="update")
    old_value: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new_value: Mapped[dict[str, Any]] = mapped_column(JSON)
    undone: Mapped[bool] = mapped_column(default=False)
    who: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
