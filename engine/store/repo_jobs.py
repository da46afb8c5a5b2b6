"""Job rows: what ran, with which parameters, how far it got and what it produced.

Running jobs is ``engine.jobs``'s business; these functions only read and write rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from engine.errors import StoreError
from engine.store.records import JobRecord
from engine.store.schema import JOB_STATUSES, Job, JobMetric, utcnow
from engine.store.tx import Db, get_row, transaction


def _json(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise StoreError(f"{what} must be plain JSON data: {e}") from None


def create_job(db: Db, kind: str, params: Mapping[str, Any]) -> int:
    """A queued job row."""
    with transaction(db) as session:
        row = Job(kind=kind, params=_json(dict(params), f"params of job {kind!r}"), status="queued")
        session.add(row)
        session.flush()
        return row.id


def get_job_row(db: Db, job_id: int) -> JobRecord:
    with transaction(db) as session:
        return JobRecord.of(get_row(session, Job, job_id))


def job_status(db: Db, job_id: int) -> str:
    """The stored status alone (cheap enough to poll for cancel requests)."""
    with transaction(db) as session:
        status = session.scalar(select(Job.status).where(Job.id == job_id))
        if status is None:
            raise StoreError(f"no jobs row with id {job_id}")
        return status


def list_job_rows(db: Db, status: str | None = None, kind: str | None = None) -> list[JobRecord]:
    """Job rows, newest first."""
    query = select(Job).order_by(Job.id.desc())
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    with transaction(db) as session:
        return [JobRecord.of(r) for r in session.scalars(query)]


def set_job_status(
    db: Db,
    job_id: int,
    status: str,
    *,
    only_from: Sequence[str] | None = None,
    log_line: str | None = None,
) -> bool:
    """Set the status (if currently one of ``only_from``); True if the row changed."""
    if status not in JOB_STATUSES:
        raise StoreError(f"unknown job status {status!r}, expected one of {JOB_STATUSES}")
    values: dict[str, Any] = {"status": status}
    if log_line is not None:
        values["log"] = Job.log + f"{utcnow().isoformat(timespec='seconds')} {log_line}\n"
    query = update(Job).where(Job.id == job_id).values(**values)
    if only_from is not None:
        query = query.where(Job.status.in_(list(only_from)))
    with transaction(db) as session:
        return cast(CursorResult, session.execute(query)).rowcount == 1


def mark_running(db: Db, job_id: int, pid: int, host: str) -> JobRecord:
    """Start an attempt: status running, attempts + 1, old error and outputs cleared."""
    now = utcnow()
    with transaction(db) as session:
        row = get_row(session, Job, job_id)
        row.status, row.pid, row.host = "running", pid, host
        row.attempts += 1
        row.started_at, row.heartbeat, row.finished_at = now, now, None
        row.error, row.outputs = None, None
        session.flush()
        return JobRecord.of(row)


def report_progress(
    db: Db,
    job_id: int,
    fraction: float,
    message: str,
    metrics: Sequence[tuple[float, Mapping[str, float | None]]],
    log_text: str,
) -> str:
    """Write a progress snapshot, append buffered metrics and log text, beat the heart.

    metrics: (fraction, named scalars) reports since the last write, oldest first.
    Returns the stored status, so the caller sees a cancel request.
    """
    now = utcnow()
    with transaction(db) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(progress=fraction, message=message, heartbeat=now, log=Job.log + log_text)
        )
        if metrics:
            seq = session.execute(
                select(func.coalesce(func.max(JobMetric.seq), -1)).where(JobMetric.job_id == job_id)
            ).scalar_one()
            session.add_all(
                JobMetric(
                    job_id=job_id,
                    seq=seq + 1 + i,
                    fraction=f,
                    at=now,
                    metrics=_json(dict(m), f"metrics of job {job_id}"),
                )
                for i, (f, m) in enumerate(metrics)
            )
        return session.execute(select(Job.status).where(Job.id == job_id)).scalar_one()


def finish_job(
    db: Db,
    job_id: int,
    status: str,
    outputs: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> JobRecord:
    """End an attempt as done, failed or cancelled."""
    assert status in ("done", "failed", "cancelled"), status
    with transaction(db) as session:
        row = get_row(session, Job, job_id)
        row.status, row.error, row.finished_at = status, error, utcnow()
        row.outputs = None if outputs is None else _json(dict(outputs), f"outputs of job {job_id}")
        if status == "done":
            row.progress = 1.0
        session.flush()
        return JobRecord.of(row)


def job_metrics(db: Db, job_id: int) -> list[dict[str, float | None]]:
    """The metrics history, oldest first: each report's scalars (None where a value was
    NaN or infinite) plus its ``fraction``."""
    query = select(JobMetric).where(JobMetric.job_id == job_id).order_by(JobMetric.seq)
    with transaction(db) as session:
        return [{"fraction": m.fraction, **m.metrics} for m in session.scalars(query)]
