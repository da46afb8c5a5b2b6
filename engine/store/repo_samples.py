"""Checkpoints, sample runs and their candidates (one float32 parameter vector each)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy import select

from engine.errors import ShapeError, StoreError
from engine.store.blobs import array_to_blob
from engine.store.records import CandidateRecord, CheckpointRecord, SampleRunRecord
from engine.store.schema import CHECKPOINT_KINDS, Candidate, Checkpoint, Person, SampleRun
from engine.store.tx import Db, get_row, transaction

def add_checkpoint(
    db: Db,
    kind: str,
    path: str,
    sha256: str,
    parent_id: int | None = None,
    config: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> int:
    """Register a checkpoint file. kind: base, scorer or dpo; parent: what it was tuned from."""
    if kind not in CHECKPOINT_KINDS:
        raise StoreError(f"unknown checkpoint kind {kind!r}, expected one of {CHECKPOINT_KINDS}")
    with transaction(db) as session:
        if parent_id is not None:
            get_row(session, Checkpoint, parent_id)
        row = Checkpoint(
            kind=kind,
            path=str(path),
            sha256=sha256,
            parent_id=parent_id,
            config=dict(config or {}),
            metrics=dict(metrics or {}),
        )
        session.add(row)
        session.flush()
        return row.id


def get_checkpoint(db: Db, checkpoint_id: int) -> CheckpointRecord:
    with transaction(db) as session:
        return CheckpointRecord.of(get_row(session, Checkpoint, checkpoint_id))


def list_checkpoints(db: Db, kind: str | None = None) -> list[CheckpointRecord]:
    query = select(Checkpoint).order_by(Checkpoint.id)
    if kind is not None:
        query = query.where(Checkpoint.kind == kind)
    with transaction(db) as session:
        return [CheckpointRecord.of(r) for r in session.scalars(query)]


def _per_candidate(values: ArrayLike | None, m: int, name: str) -> list[float | None]:
    if values is None:
        return [None] * m
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (m,):
        raise ShapeError(f"{name}: expected shape ({m},) for {m} candidates, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ShapeError(f"{name}: contains NaN or infinite values")
    return [float(v) for v in arr]


def add_sample_run(
    db: Db,
    person_id: int,
    params: ArrayLike,
    *,
    seed: int,
    steps: int,
    checkpoint_id: int | None = None,
    scores: ArrayLike | None = None,
    errors: Mapping[str, ArrayLike] | None = None,
    fit_start: float | None = None,
) -> int:
    """Store M sampled hypotheses of one person as a run.

    params: (M, D) parameter vectors. scores: (M,) scorer outputs or None.
    errors: optional {metric name: (M,) array} (``engine.metric_registry``: mpjpe,
        pa_mpjpe, pve in mm, or any other registered metric).
    fit_start: the level the samples started from the person's fit at (0: from noise),
        None when unknown.
    Returns the run id; candidate i gets index i.
    """
    arr = np.asarray(params)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ShapeError(f"params: expected shape (M, D) with M, D > 0, got {arr.shape}")
    m = arr.shape[0]
    bad = sorted(k for k in errors or {} if not (isinstance(k, str) and k.isidentifier()))
    if bad:
        raise StoreError(f"error names must be identifiers (metric names), got {bad}")
    blobs = [array_to_blob(arr[i], f"params[{i}]") for i in range(m)]
    score_list = _per_candidate(scores, m, "scores")
    err_lists = {k: _per_candidate(v, m, k) for k, v in (errors or {}).items() if v is not None}
    with transaction(db) as session:
        get_row(session, Person, person_id)
        if checkpoint_id is not None:
            get_row(session, Checkpoint, checkpoint_id)
        run = SampleRun(
            person_id=person_id, checkpoint_id=checkpoint_id, seed=seed, m=m, steps=steps, fit_start=fit_start
        )
        session.add(run)
        session.flush()
        session.add_all(
            Candidate(
                run_id=run.id,
                idx=i,
                params=blobs[i],
                score=score_list[i],
                errors={k: v[i] for k, v in err_lists.items()} or None,
            )
            for i in range(m)
        )
        return run.id


def sample_runs_of_person(db: Db, person_id: int) -> list[SampleRunRecord]:
    query = select(SampleRun).where(SampleRun.person_id == person_id).order_by(SampleRun.id)
    with transaction(db) as session:
        return [SampleRunRecord.of(r) for r in session.scalars(query)]


def candidates_of_person(
    db: Db, person_id: int, run_id: int | None = None
) -> list[CandidateRecord]:
    """The candidates of a person (of one run, or of all its runs) by run then index."""
    query = (
        select(Candidate)
        .join(SampleRun, Candidate.run_id == SampleRun.id)
        .where(SampleRun.person_id == person_id)
        .order_by(Candidate.run_id, Candidate.idx)
    )
    if run_id is not None:
        query = query.where(Candidate.run_id == run_id)
    with transaction(db) as session:
        return [CandidateRecord.of(r) for r in session.scalars(query)]


def candidate_scores(db: Db, candidate_ids: Iterable[int]) -> dict[int, float | None]:
    """The stored scores of candidates by id (None: unscored); unknown ids are left out."""
    ids = sorted({int(i) for i in candidate_ids})
    out: dict[int, float | None] = {}
    with transaction(db) as session:
        # Chunks keep each query under SQLite's limit on bound parameters.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            out.update(session.execute(select(Candidate.id, Candidate.score).where(Candidate.id.in_(chunk))).all())
    return out


def set_candidate_scores(db: Db, scores: Mapping[int, float]) -> None:
    """Store scorer outputs by candidate id (after scoring an existing run)."""
    with transaction(db) as session:
        for candidate_id, score in scores.items():
            if not np.isfinite(score):
                raise ShapeError(f"score of candidate {candidate_id} is not finite")
            get_row(session, Candidate, candidate_id).score = float(score)
