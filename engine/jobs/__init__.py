"""Long work with progress, cancel and resume, shared by the GUI and the CLI.

Register a kind with ``register_job(kind, fn)``; run it with ``run_job(project,
JobSpec(kind, params))`` in the calling thread (the CLI's foreground, the app's worker
thread). Built-in kinds: "hash-images" and those of ``engine.jobs.kinds`` (sample, pairs,
dpo, clean, train-base, train-scorer, ...), registered on first lookup.
"""

from engine.jobs import hash_images as _builtin  # noqa: F401  (registers the built-in kinds)
from engine.jobs.context import JobContext
from engine.jobs.registry import JobFn, JobKind, check_job_params, job_kind, register_job, registered_kinds
from engine.jobs.runner import (
    cancel_job,
    get_job,
    is_job_alive,
    job_state_dir,
    list_jobs,
    resume_job,
    run_job,
)
from engine.jobs.spec import JobResult, JobSpec
from engine.store.repo_jobs import create_job, job_metrics

__all__ = [
    "JobContext",
    "JobFn",
    "JobKind",
    "JobResult",
    "JobSpec",
    "cancel_job",
    "check_job_params",
    "create_job",
    "get_job",
    "is_job_alive",
    "job_kind",
    "job_metrics",
    "job_state_dir",
    "list_jobs",
    "register_job",
    "registered_kinds",
    "resume_job",
    "run_job",
]
