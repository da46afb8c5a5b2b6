"""Dataset cleaning: the scorer's keep/drop call per pseudo-label, overridable by hand."""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import select

from engine.errors import StoreError
from engine.store.actions import record_update
from engine.store.project import Project
from engine.store.records import ActionRecord, CleaningDecisionRecord, CleaningRunRecord
from engine.store.schema import (
    Checkpoint,
    CleaningDecision,
    CleaningRun,
    Dataset,
    Image,
    Person,
    utcnow,
)
from engine.store.tx import Db, get_row, transaction


def auto_keep(
    scores: Mapping[int, float], keep_fraction: float | None, threshold: float | None
) -> dict[int, bool]:
    """Which persons the rule keeps: the top ``keep_fraction`` by score (ties broken by
    lower person id, the count rounded to nearest), or those scoring >= ``threshold``."""
    if (keep_fraction is None) == (threshold is None):
        raise StoreError("a cleaning rule needs exactly one of keep_fraction and threshold")
    if any(not math.isfinite(v) for v in scores.values()):
        raise StoreError("cleaning scores must be finite numbers")
    if threshold is not None:
        return {pid: score >= threshold for pid, score in scores.items()}
    assert keep_fraction is not None  # exactly one of the two, checked above
    if not 0.0 <= keep_fraction <= 1.0:
        raise StoreError(f"keep_fraction must be in [0, 1], got {keep_fraction}")
    ranked = sorted(scores, key=lambda pid: (-scores[pid], pid))
    n_keep = round(keep_fraction * len(ranked))
    return {pid: rank < n_keep for rank, pid in enumerate(ranked)}


def add_cleaning_run(
    db: Db,
    dataset_id: int,
    scores: Mapping[int, float],
    *,
    keep_fraction: float | None = None,
    threshold: float | None = None,
    checkpoint_id: int | None = None,
) -> int:
    """Record a scorer pass over a dataset's pseudo-labels with its automatic decisions.

    scores: person id -> scorer output; every person must belong to the dataset.
    """
    keep = auto_keep(scores, keep_fraction, threshold)
    with transaction(db) as session:
        get_row(session, Dataset, dataset_id)
        if checkpoint_id is not None:
            get_row(session, Checkpoint, checkpoint_id)
        members = set(
            session.scalars(
                select(Person.id)
                .join(Image, Person.image_id == Image.id)
                .where(Image.dataset_id == dataset_id, Person.id.in_(list(scores)))
            )
        )
        strangers = sorted(set(scores) - members)
        if strangers:
            raise StoreError(f"persons {strangers[:5]} are not in dataset {dataset_id}")
        run = CleaningRun(
            dataset_id=dataset_id,
            checkpoint_id=checkpoint_id,
            keep_fraction=keep_fraction,
            threshold=threshold,
        )
        session.add(run)
        session.flush()
        session.add_all(
            CleaningDecision(
                run_id=run.id, person_id=pid, score=float(scores[pid]), auto_keep=keep[pid]
            )
            for pid in sorted(scores)
        )
        return run.id


def list_cleaning_runs(db: Db, dataset_id: int | None = None) -> list[CleaningRunRecord]:
    """Cleaning runs (of one dataset), newest first."""
    query = select(CleaningRun).order_by(CleaningRun.id.desc())
    if dataset_id is not None:
        query = query.where(CleaningRun.dataset_id == dataset_id)
    with transaction(db) as session:
        return [CleaningRunRecord.of(r) for r in session.scalars(query)]


def get_cleaning_run(db: Db, run_id: int) -> CleaningRunRecord:
    with transaction(db) as session:
        return CleaningRunRecord.of(get_row(session, CleaningRun, run_id))


def cleaning_decisions(db: Db, run_id: int) -> list[CleaningDecisionRecord]:
    """The decisions of a run by descending score."""
    query = (
        select(CleaningDecision)
        .where(CleaningDecision.run_id == run_id)
        .order_by(CleaningDecision.score.desc(), CleaningDecision.person_id)
    )
    with transaction(db) as session:
        get_row(session, CleaningRun, run_id)
        return [CleaningDecisionRecord.of(r) for r in session.scalars(query)]


def kept_person_ids(db: Db, run_id: int) -> list[int]:
    """Persons the run keeps once manual overrides are applied, in id order."""
    return sorted(d.person_id for d in cleaning_decisions(db, run_id) if d.keep)


def set_cleaning_override(
    project: Project, decision_id: int, keep: bool | None, who: str | None = None
) -> ActionRecord:
    """Overrule (keep True/False) or restore (None) the scorer's call; committed, undoable."""
    with project.session(write=True) as session:
        row = get_row(session, CleaningDecision, decision_id)
        action = record_update(
            session, row, {"override": keep, "who": who, "decided_at": utcnow()}, who
        )
        return ActionRecord.of(action)
