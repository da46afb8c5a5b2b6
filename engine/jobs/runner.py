"""Run, resume, cancel and list jobs of a project.

Each attempt holds a per-job lock file (``<data>/jobs/<id>.lock``) for as long as it runs,
and writer jobs also hold the project's writer lock. Both are released by the kernel when
the process dies, so a 'running' row whose job lock is free belongs to a crashed attempt:
it is reported as crashed and can be resumed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import traceback
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from engine.errors import AdhmrError, JobCancelled, StoreError
from engine.jobs.context import JobContext
from engine.jobs.registry import JobKind, job_kind
from engine.jobs.spec import JobResult, JobSpec
from engine.progress import CancelFn, ProgressFn
from engine.store import FileLock, JobRecord, Project, is_locked
from engine.store.repo_jobs import (
    create_job,
    finish_job,
    get_job_row,
    list_job_rows,
    mark_running,
    set_job_status,
)

log = logging.getLogger(__name__)

_LIVE = ("running", "cancel_requested")
_RESUMABLE = ("queued", "failed", "cancelled", *_LIVE)


def job_state_dir(project: Project, job_id: int) -> Path:
    """The folder where a job keeps state to resume from (kept across attempts)."""
    return project.data_dir / "jobs" / str(job_id)


def _job_lock(project: Project, job_id: int) -> FileLock:
    return FileLock(project.data_dir / "jobs" / f"{job_id}.lock", f"lock of job {job_id}")


def is_job_alive(project: Project, job_id: int) -> bool:
    """Whether an attempt of the job is running now, in any process on this machine."""
    return is_locked(_job_lock(project, job_id).path)


def _effective(project: Project, rec: JobRecord) -> JobRecord:
    if rec.status in _LIVE and not is_job_alive(project, rec.id):
        return dataclasses.replace(rec, status="crashed")
    return rec


def get_job(project: Project, job_id: int) -> JobRecord:
    """A job's row; a 'running' job whose process is gone shows as crashed."""
    return _effective(project, get_job_row(project, job_id))


def list_jobs(
    project: Project, status: str | None = None, kind: str | None = None
) -> list[JobRecord]:
    """Jobs newest first, optionally of one (effective) status and kind."""
    jobs = [_effective(project, r) for r in list_job_rows(project, kind=kind)]
    return [j for j in jobs if status is None or j.status == status]


def run_job(
    project: Project,
    spec_or_job_id: JobSpec | int,
    progress_cb: ProgressFn | None = None,
    cancel_flag: CancelFn | threading.Event | None = None,
    *,
    lock_timeout: float = 0.0,
) -> JobResult:
    """Run a job in the calling thread until it ends.

    spec_or_job_id: a JobSpec (a new job row is made once the locks are held) or the id
    of a queued job. progress_cb gets every ProgressEvent; cancel_flag is polled through
    ``ctx.should_cancel``. A writer job waits up to ``lock_timeout`` s for the project's
    writer lock, then raises StoreError naming the job that holds it.

    Returns the JobResult of a job that finished, failed with an AdhmrError, or was
    cancelled; any other exception is recorded on the row (status failed) and re-raised.
    """
    if isinstance(spec_or_job_id, JobSpec):
        kind = job_kind(spec_or_job_id.kind)
        return _launch(
            project, kind, None, spec_or_job_id, ("queued",), progress_cb, cancel_flag, lock_timeout
        )
    kind = job_kind(get_job_row(project, spec_or_job_id).kind)
    return _launch(
        project, kind, spec_or_job_id, None, ("queued",), progress_cb, cancel_flag, lock_timeout
    )


def resume_job(
    project: Project,
    job_id: int,
    progress_cb: ProgressFn | None = None,
    cancel_flag: CancelFn | threading.Event | None = None,
    *,
    lock_timeout: float = 0.0,
) -> JobResult:
    """Run a failed, cancelled, crashed or queued job again with the same params and
    state folder; StoreError if it is done or still running."""
    kind = job_kind(get_job_row(project, job_id).kind)
    return _launch(project, kind, job_id, None, _RESUMABLE, progress_cb, cancel_flag, lock_timeout)


def cancel_job(project: Project, job_id: int) -> str:
    """Ask a job to stop; returns its status afterwards.

    queued or crashed: cancelled at once. running: cancel_requested, seen by the job
    within about half a second of its next cancel check. Finished jobs are left alone.
    """
    status = get_job_row(project, job_id).status
    if status == "queued":
        set_job_status(project, job_id, "cancelled", only_from=("queued",), log_line="cancelled")
    elif status in _LIVE:
        lock = _job_lock(project, job_id)
        try:
            lock.acquire()
        except StoreError:
            set_job_status(
                project,
                job_id,
                "cancel_requested",
                only_from=("running",),
                log_line="cancel requested",
            )
        else:
            try:
                set_job_status(
                    project,
                    job_id,
                    "cancelled",
                    only_from=_LIVE,
                    log_line="cancelled after a crash",
                )
            finally:
                lock.release()
    return get_job(project, job_id).status


def _launch(
    project: Project,
    kind: JobKind,
    job_id: int | None,
    spec: JobSpec | None,
    runnable: tuple[str, ...],
    progress_cb: ProgressFn | None,
    cancel_flag: CancelFn | threading.Event | None,
    lock_timeout: float,
) -> JobResult:
    with ExitStack() as held:
        writer = None
        if kind.writer:
            writer = project.writer_lock()
            writer.acquire(lock_timeout)
            held.callback(writer.release)
        if job_id is None:
            assert spec is not None
            job_id = create_job(project, spec.kind, spec.params)
        job_lock = _job_lock(project, job_id)
        job_lock.acquire()
        held.callback(job_lock.release)
        job_lock.note({"job": job_id, "kind": kind.kind})
        if writer is not None:
            writer.note({"job": job_id, "kind": kind.kind})
        rec = get_job_row(project, job_id)
        # With the job lock in hand, a 'running' row can only be left from a dead attempt.
        was = "crashed" if rec.status in _LIVE else rec.status
        if rec.status not in runnable:
            verb = "resumed" if len(runnable) > 1 else "started (use resume_job)"
            raise StoreError(f"job {job_id} ({rec.kind}) is {was}, it cannot be {verb}")
        if rec.status != "queued":
            set_job_status(project, job_id, "queued", log_line=f"resuming after it {was}")
        return _execute(project, kind, job_id, rec.params, progress_cb, cancel_flag)


def _execute(
    project: Project,
    kind: JobKind,
    job_id: int,
    params: dict[str, Any],
    progress_cb: ProgressFn | None,
    cancel_flag: CancelFn | threading.Event | None,
) -> JobResult:
    state_dir = job_state_dir(project, job_id)
    state_dir.mkdir(parents=True, exist_ok=True)
    ctx = JobContext(project, job_id, state_dir, progress_cb, cancel_flag)
    # From the moment the row says 'running', a Ctrl+C must end it as cancelled, not leave
    # a 'running' row behind (which reads as crashed once the lock is released).
    try:
        rec = mark_running(project, job_id, os.getpid(), socket.gethostname())
        ctx.log(f"attempt {rec.attempts} of {kind.kind} started, pid {rec.pid} on {rec.host}")
        outputs = kind.fn(dict(params), ctx)
    except JobCancelled as e:
        return _finish(ctx, "cancelled", error=str(e))
    except KeyboardInterrupt:
        _finish(ctx, "cancelled", error="interrupted")
        raise
    except AdhmrError as e:
        return _finish(ctx, "failed", error=str(e))
    except Exception as e:
        ctx.log(traceback.format_exc().rstrip())
        _finish(ctx, "failed", error=f"{type(e).__name__}: {e}")
        raise
    return _finish(ctx, "done", outputs=dict(outputs or {}))


def _finish(
    ctx: JobContext, status: str, outputs: dict[str, Any] | None = None, error: str | None = None
) -> JobResult:
    if status == "done":
        ctx.progress(1.0, "done")
    ctx.log(status if error is None else f"{status}: {error}")
    ctx.flush()
    try:
        rec = finish_job(ctx.project, ctx.job_id, status, outputs, error)
    except StoreError as e:
        rec = finish_job(ctx.project, ctx.job_id, "failed", None, str(e))
    log.info("job %d ended %s", ctx.job_id, rec.status)
    return JobResult(rec.id, rec.status, rec.outputs, rec.error)
