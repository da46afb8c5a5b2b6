"""A job kind's parameters: one description (``engine.params.ParamSpec``) per parameter,
most read from the kind's config dataclass, from which ``adhmr jobs ... run``, the app's
job form and the job's own validation are all built.

A kind registers a function returning its specs (``register_job(..., params=...)``), so
listing kinds stays cheap; ``values(kind, params, specs)`` turns the JSON (or CLI strings)
params into checked values with every default filled in, and an unknown name or a bad
value is a one-line DataError naming the job kind and the parameter, before any work.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import DataError
from engine.params import SEED_MAX, ParamSpec, check_values, to_bool

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


_MISSING = object()


class Params:
    """The params of one job of ``kind``, restricted to ``allowed`` names, read one by one:
    for a kind that declares no description (its form is then the JSON box alone)."""

    def __init__(self, kind: str, params: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self.kind = kind
        self.values = dict(params)
        allowed = set(allowed)
        unknown = sorted(set(self.values) - allowed)
        if unknown:
            raise DataError(
                f"job {kind}: unknown parameter {', '.join(unknown)}; it takes {', '.join(sorted(allowed))}"
            )

    def _get(self, name: str, default: Any) -> Any:
        if name in self.values and self.values[name] is not None:
            return self.values[name]
        if default is _MISSING:
            raise DataError(f"job {self.kind}: parameter '{name}' is required")
        return default

    def _bad(self, name: str, value: Any, what: str) -> DataError:
        return DataError(f"job {self.kind}: parameter '{name}' must be {what}, got {value!r}")

    def str(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default:
            return value
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise self._bad(name, value, "a string")
        return str(value)

    # From here on ``str`` in an annotation would name the method above.
    def int(self, name: builtins.str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default:
            return value
        try:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        except (TypeError, ValueError):
            raise self._bad(name, value, "a whole number") from None

    def float(self, name: builtins.str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default:
            return value
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise self._bad(name, value, "a number") from None

    def bool(self, name: builtins.str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        try:
            return to_bool(value)
        except ValueError:
            raise self._bad(name, value, "true or false") from None

    def list(self, name: builtins.str, default: Any = _MISSING) -> Any:
        """A list of strings; a single string is a list of one."""
        value = self._get(name, default)
        if value is default:
            return value
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise self._bad(name, value, "a path or a list of paths")

    def ref(self, name: builtins.str, default: Any = None) -> Any:
        """A checkpoint reference: an id, 'latest', 'default' or a path."""
        value = self._get(name, default)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str):
            return value
        raise self._bad(name, value, "a checkpoint id, 'latest', 'default' or a path")
