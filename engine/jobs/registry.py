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
    from engine.params import ParamSpec

JobFn = Callable[[dict[str, Any], "JobContext"], Mapping[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    """A registered kind. writer: the job changes project data, so it takes the project's
    writer lock and never runs beside another writer job. describe: returns the kind's
    parameters (``engine.params.ParamSpec``), which the CLI and the app's form are built
    from; None for a kind that declares none (its form is the JSON box alone)."""

    kind: str
    fn: JobFn
    writer: bool
    describe: Callable[[], tuple[ParamSpec, ...]] | None = None

    def params(self) -> tuple[ParamSpec, ...]:
        """The kind's parameters, in the order its form shows them."""
        return tuple(self.describe()) if self.describe is not None else ()


_REGISTRY: dict[str, JobKind] = {}
_BUILTINS_LOADED = False


def _load_builtin_kinds() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        importlib.import_module("engine.jobs.kinds")


def register_job(kind: str, fn: JobFn, *, writer: bool = True, replace: bool = False,
                 params: Callable[[], tuple[ParamSpec, ...]] | None = None) -> None:
    """Make ``kind`` runnable; StoreError if it is taken (unless ``replace``). params: a
    function giving its parameters' descriptions (called when a front end needs them)."""
    if kind in _REGISTRY and not replace:
        raise StoreError(f"job kind {kind!r} is already registered")
    _REGISTRY[kind] = JobKind(kind, fn, writer, params)


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


def check_job_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a job of ``kind`` checked against its description (every default
    filled in; a kind without one takes them as given), so a front end refuses a bad
    value before the job is created.

    Raises StoreError for an unknown kind, DataError for an unknown name or a bad value."""
    from engine.params import check_values

    found = job_kind(kind)
    if found.describe is None:
        return dict(params)
    return check_values(f"job {kind}", params, found.params())
