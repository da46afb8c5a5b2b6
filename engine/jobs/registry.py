"""Job kinds: a name mapped to the function that does the work.

A job function is ``fn(params: dict, ctx: JobContext) -> dict | None`` (its outputs, plain
JSON data). It reports through ``ctx.progress``, stops when ``ctx.should_cancel()`` (by
raising ``JobCancelled``, e.g. via ``ctx.check_cancel()``), and keeps whatever it needs to
resume in ``ctx.state_dir`` or in the project's tables, so that re-running it with the
same params after a crash or a cancel picks up where it stopped.

The built-in kinds (``engine.jobs.kinds``) are imported on the first lookup or listing,
so callers never need to import them just to have them registered.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import StoreError

if TYPE_CHECKING:
    from engine.jobs.context import JobContext

JobFn = Callable[[dict[str, Any], "JobContext"], Mapping[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    """A registered kind. writer: the job changes project data, so it takes the project's
    writer lock and never runs beside another writer job."""

    kind: str
    fn: JobFn
    writer: bool


_REGISTRY: dict[str, JobKind] = {}
_BUILTINS_LOADED = False


def _load_builtin_kinds() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        importlib.import_module("engine.jobs.kinds")


def register_job(kind: str, fn: JobFn, *, writer: bool = True, replace: bool = False) -> None:
    """Make ``kind`` runnable; StoreError if it is taken (unless ``replace``)."""
    if kind in _REGISTRY and not replace:
        raise StoreError(f"job kind {kind!r} is already registered")
    _REGISTRY[kind] = JobKind(kind, fn, writer)


def job_kind(kind: str) -> JobKind:
    """The registered kind; StoreError naming the known ones if there is none."""
    _load_builtin_kinds()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise StoreError(
            f"unknown job kind {kind!r}, known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def registered_kinds() -> list[str]:
    _load_builtin_kinds()
    return sorted(_REGISTRY)
