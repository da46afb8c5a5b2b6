"""One description of a setting (name, type, default, bounds, help), read from a config
dataclass's fields, from which the CLI options, the app's job forms and the jobs'
validation are all built, so they cannot disagree.

A config says what it needs in its field metadata::

    beta: float = field(default=100.0, metadata=param("DPO β", gt=0))

and ``describe(DPOConfig)`` gives a ``ParamSpec`` per field. A field without metadata is
described by its type and default alone. This module sits at the bottom of the engine
(it imports only ``engine.errors``) so every config can use it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import DataError

log = logging.getLogger(__name__)

KINDS = ("int", "float", "bool", "str", "paths", "dataset", "checkpoint", "json")
"""int, float, bool, str: plain values; paths: a list of file paths (one string is a list of
one); dataset: a project dataset's name; checkpoint: a checkpoint reference (a registered
id, 'latest', 'default' or a path); json: a structured value (an object, or its JSON text)
that the config checks itself."""
_META = "adhmr_param"
SEED_MAX = 2**63 - 1  # torch keeps seeds in a signed 64-bit integer
_REQUIRED = dataclasses.MISSING


def param(help: str = "", *, gt: float | None = None, ge: float | None = None, lt: float | None = None,
          le: float | None = None, choices: Iterable[str] = (), kind: str | None = None,
          checkpoint_kinds: Iterable[str] = (), aliases: Iterable[str] = ()) -> dict[str, Any]:
    """Field metadata describing a setting: ``field(default=..., metadata=param(...))``.

    gt/ge/lt/le: bounds (exclusive/inclusive). choices: the allowed strings. kind: one of
    KINDS when the annotation alone does not say it (a dataset name is a str). aliases: old
    names still accepted (with a deprecation warning in the log)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"param kind must be one of {KINDS}, got {kind!r}")
    return {_META: {"help": help, "gt": gt, "ge": ge, "lt": lt, "le": le, "choices": tuple(choices),
                    "kind": kind, "checkpoint_kinds": tuple(checkpoint_kinds), "aliases": tuple(aliases)}}


@dataclass(frozen=True)
class ParamSpec:
    """One setting. default: the value when it is not given (``None`` with ``optional``:
    left unset); required: it has no default. choices: allowed strings, empty for any."""

    name: str
    kind: str
    default: Any = None
    help: str = ""
    optional: bool = False
    required: bool = False
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()
    checkpoint_kinds: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        """The command-line option: ``--num-candidates`` for ``num_candidates``."""
        return "--" + self.name.replace("_", "-")

    def bounds_text(self) -> str:
        """The bounds as a reader sees them: '> 0', '>= 0 and < 1', or ''."""
        parts = [f"{op} {_num(v)}" for op, v in ((">", self.gt), (">=", self.ge), ("<", self.lt), ("<=", self.le))
                 if v is not None]
        return " and ".join(parts)

    def check(self, value: Any, where: str) -> Any:
        """``value`` converted to this setting's type and checked against its bounds and
        choices (strings from a command line are parsed). None stays None where allowed.

        Raises DataError: "<where>: parameter 'beta' must be > 0, got 0.0"."""
        if value is None:
            if self.optional or self.kind in ("dataset", "checkpoint"):
                return None
            raise DataError(f"{where}: parameter '{self.name}' needs a value")
        try:
            out = _convert(self.kind, value)
        except (TypeError, ValueError):  # json.JSONDecodeError is a ValueError
            raise DataError(f"{where}: parameter '{self.name}' must be {_WHAT[self.kind]}, got {value!r}") from None
        if self.choices and out not in self.choices:
            raise DataError(f"{where}: parameter '{self.name}' must be one of {', '.join(self.choices)}, got {out!r}")
        if self.kind in ("int", "float") and not _within(self, out):
            raise DataError(f"{where}: parameter '{self.name}' must be {self.bounds_text()}, got {out!r}")
        return out


def describe(cls: type, only: Iterable[str] | None = None, exclude: Iterable[str] = ()) -> tuple[ParamSpec, ...]:
    """A ParamSpec per field of the dataclass ``cls`` (in field order), from its type
    annotation, default and ``param`` metadata; ``only``/``exclude`` pick fields by name."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    if only is not None:
        wanted = list(only)
        by_name = {f.name: f for f in fields}
        missing = [n for n in wanted if n not in by_name]
        if missing:
            raise ValueError(f"{cls.__name__} has no field {', '.join(missing)}")
        fields = [by_name[n] for n in wanted]
    skip = set(exclude)
    return tuple(_spec_of(f, hints[f.name]) for f in fields if f.name not in skip)


def check_values(where: str, values: Mapping[str, Any], specs: Iterable[ParamSpec]) -> dict[str, Any]:
    """Every setting of ``specs`` from ``values`` (converted and checked) or its default.

    An alias is renamed to its setting's name. Raises DataError (one line, naming
    ``where``) for an unknown name, a missing required one or a bad value."""
    specs = tuple(specs)
    by_name = {s.name: s for s in specs}
    alias_of = {a: s.name for s in specs for a in s.aliases}
    given: dict[str, Any] = {}
    for key, value in values.items():
        name = alias_of.get(key, key)
        if name not in by_name:
            raise DataError(f"{where}: unknown parameter {key}; it takes {', '.join(sorted(by_name))}")
        if name != key:
            log.warning("%s: parameter '%s' is deprecated, use '%s'", where, key, name)
            if name in values:
                raise DataError(f"{where}: give '{name}' or its old name '{key}', not both")
        given[name] = value
    out: dict[str, Any] = {}
    for s in specs:
        if s.name in given:
            out[s.name] = s.check(given[s.name], where)
        elif s.required:
            raise DataError(f"{where}: parameter '{s.name}' is required")
        else:
            out[s.name] = s.default
    return out


def check_fields(obj: Any, where: str) -> None:
    """Check each field of the dataclass instance ``obj`` against its ``param`` bounds and
    choices (a config's ``__post_init__`` calls this); DataError on the first bad one."""
    for s in describe(type(obj)):
        value = getattr(obj, s.name)
        if value is None or s.kind not in ("int", "float", "str"):
            continue
        if s.choices and value not in s.choices:
            raise DataError(f"{where}: {s.name} must be one of {', '.join(s.choices)}, got {value!r}")
        if s.kind in ("int", "float") and not _within(s, value):
            raise DataError(f"{where}: {s.name} must be {s.bounds_text()}, got {value!r}")


def to_bool(value: Any) -> bool:
    """True/False from a bool, 0/1, or 'true'/'false'/'yes'/'no'; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.lower() in ("true", "yes", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(value)


_WHAT = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a string",
         "paths": "a path or a list of paths", "dataset": "a dataset name",
         "checkpoint": "a checkpoint id, 'latest', 'default' or a path", "json": "a JSON object"}


def _spec_of(f: dataclasses.Field, hint: Any) -> ParamSpec:
    meta = dict(f.metadata.get(_META, {}))
    base, optional = _unwrap(hint)
    kind = meta.pop("kind", None) or _kind_of(base)
    if f.default is not dataclasses.MISSING:
        default, required = f.default, False
    elif f.default_factory is not dataclasses.MISSING:
        default, required = f.default_factory(), False
    else:
        default, required = None, True
    if isinstance(default, tuple) and kind == "paths":
        default = list(default)
    return ParamSpec(name=f.name, kind=kind, default=default, optional=optional or (default is None and not required),
                     required=required, **meta)


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else Any), len(args) < len(typing.get_args(hint))
    return hint, False


def _kind_of(base: Any) -> str:
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    if base is float:
        return "float"
    if base is str:
        return "str"
    if typing.get_origin(base) in (tuple, list):
        return "paths"
    return "json"


def _convert(kind: str, value: Any) -> Any:
    if kind == "bool":
        return to_bool(value)
    if kind == "int":
        # inf is not a whole number (int() of it would raise OverflowError, not ValueError)
        if isinstance(value, bool) or not math.isfinite(float(value)) or float(value) != int(float(value)):
            raise ValueError(value)
        return int(float(value))
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError(value)
        out = float(value)
        if math.isnan(out):
            raise ValueError(value)
        return out
    if kind == "paths":
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise ValueError(value)
    if kind == "json":
        return json.loads(value) if isinstance(value, str) else value
    if kind == "checkpoint":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value
        raise ValueError(value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(value)
    return str(value)


def _within(s: ParamSpec, v: float) -> bool:
    return ((s.gt is None or v > s.gt) and (s.ge is None or v >= s.ge)
            and (s.lt is None or v < s.lt) and (s.le is None or v <= s.le))


def _num(v: float) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)
