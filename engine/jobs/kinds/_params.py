"""A job kind's parameters: one description (``engine.params.ParamSpec``) per parameter,
most read from the kind's config dataclass, from which ``adhmr jobs ... run``, the app's
job form and the job's own validation are all built.

A kind registers a function returning its specs (``register_job(..., params=...)``), so
listing kinds stays cheap; ``values(kind, params, specs)`` turns the JSON (or CLI strings)
params into checked values with every default filled in, and an unknown name or a bad
value is a one-line DataError naming the job kind and the parameter, before any work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.params import SEED_MAX, ParamSpec, check_values

BASE_KINDS = ("base", "dpo")


def values(kind: str, params: Mapping[str, Any], specs: Iterable[ParamSpec]) -> dict[str, Any]:
    """Every parameter of the job ``kind``: given (converted, checked) or its default."""
    return check_values(f"job {kind}", params, specs)


def dataset(help: str = "a dataset of this project", optional: bool = False, name: str = "dataset",
            many: bool = False) -> ParamSpec:
    """A project dataset's name (``many``: a list of names)."""
    return ParamSpec(name, "paths" if many else "dataset", None, help, optional=optional, required=not optional)


def checkpoint(name: str, kinds: tuple[str, ...], help: str, default: Any = None) -> ParamSpec:
    """A checkpoint reference (a registered id, 'latest', 'default' or a path) of ``kinds``;
    None where the job does without one (or, for a model it needs, means 'latest')."""
    return ParamSpec(name, "checkpoint", default, help, optional=True, checkpoint_kinds=kinds)


def seed(default: int = 0) -> ParamSpec:
    return ParamSpec("seed", "int", default, "random seed", ge=0, le=SEED_MAX)


def device(default: str | None = None) -> ParamSpec:
    return ParamSpec("device", "str", default, "auto (CUDA when available), cpu, cuda, cuda:1, ...",
                     optional=default is None)


def renamed(spec: ParamSpec, **changes: Any) -> ParamSpec:
    """``spec`` with some attributes changed (a job's own default or help for a config field)."""
    from dataclasses import replace

    return replace(spec, **changes)


def pick(specs: Iterable[ParamSpec], *names: str) -> tuple[ParamSpec, ...]:
    """The specs named, in that order (KeyError for a name that is not there)."""
    by_name = {s.name: s for s in specs}
    return tuple(by_name[n] for n in names)


def sample_settings(names: Iterable[str]) -> tuple[ParamSpec, ...]:
    """The fields ``names`` of ``SampleSettings`` (how candidates are sampled and scored)."""
    from engine.models.sample_settings import SampleSettings
    from engine.params import describe

    return describe(SampleSettings, only=names)
