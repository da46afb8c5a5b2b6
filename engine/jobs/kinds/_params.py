"""Checked access to a job's parameters (plain JSON values; from the CLI, strings too).

A job kind declares the names it accepts; an unknown name or a value of the wrong type
is a DataError naming the job kind and the parameter, so a typo fails before any work.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import DataError

_MISSING = object()


class Params:
    """The params of one job of ``kind``, restricted to ``allowed`` names."""

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

    def int(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default:
            return value
        try:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        except (TypeError, ValueError):
            raise self._bad(name, value, "a whole number") from None

    def float(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default:
            return value
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise self._bad(name, value, "a number") from None

    def bool(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        try:
            return to_bool(value)
        except ValueError:
            raise self._bad(name, value, "true or false") from None

    def list(self, name: str, default: Any = _MISSING) -> Any:
        """A list of strings; a single string is a list of one."""
        value = self._get(name, default)
        if value is default:
            return value
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise self._bad(name, value, "a path or a list of paths")

    def ref(self, name: str, default: Any = None) -> Any:
        """A checkpoint reference: an id, 'latest', 'default' or a path."""
        value = self._get(name, default)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str):
            return value
        raise self._bad(name, value, "a checkpoint id, 'latest', 'default' or a path")


def to_bool(value: Any) -> bool:
    """True/False from a bool, 0/1, or 'true'/'false'/'yes'/'no'; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.lower() in ("true", "yes", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(value)


def coerce_config(kind: str, cls: type, values: Mapping[str, Any]) -> Any:
    """Build the dataclass ``cls`` from job params, converting each value to the type of
    its field's default (CLI values arrive as JSON or strings)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DataError(f"job {kind}: unknown parameter {', '.join(unknown)}; it takes {', '.join(sorted(fields))}")
    out: dict[str, Any] = {}
    for name, value in values.items():
        f = fields[name]
        default = f.default if f.default is not dataclasses.MISSING else None
        try:
            out[name] = _like(value, default)
        except (TypeError, ValueError):
            raise DataError(f"job {kind}: parameter '{name}' has a value of the wrong type: {value!r}") from None
    try:
        return cls(**out)
    except TypeError as e:
        raise DataError(f"job {kind}: {e}") from None


def _like(value: Any, default: Any) -> Any:
    if value is None or default is None:
        if isinstance(value, str) and value.startswith(("[", "{")):
            return json.loads(value)
        return value
    if isinstance(default, bool):
        return to_bool(value)
    if isinstance(default, int):
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError(value)
        return int(float(value))
    if isinstance(default, float):
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    if isinstance(default, tuple):
        return tuple(value) if isinstance(value, list) else (value,)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    return value
