"""Command-line options built from parameter descriptions (``engine.params.ParamSpec``):
a config's field ``beta`` becomes ``--beta`` with the field's type, default, bounds and
help, so a command cannot disagree with the config or with the job of the same name.

A bad value is argparse's one-line usage error (exit 2), worded as the job's would be.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.errors import DataError
from engine.params import ParamSpec

SHORT = {"num_candidates": ("-M",)}
"""Short options every command gives the same setting."""


def add_param_options(parser: argparse.ArgumentParser, specs: Iterable[ParamSpec],
                      extra_flags: Mapping[str, Sequence[str]] | None = None) -> tuple[ParamSpec, ...]:
    """An option per spec (``--name-with-dashes``, old names as aliases); returns the specs,
    whose values ``values_of`` reads back from the parsed arguments."""
    specs = tuple(specs)
    for s in specs:
        # A one-letter old name (M) is the short option already; longer ones stay as long options.
        flags = [*SHORT.get(s.name, ()), s.flag, *("--" + a.replace("_", "-") for a in s.aliases if len(a) > 1),
                 *(extra_flags or {}).get(s.name, ())]
        help_text = _help(s)
        if s.kind == "bool":
            parser.add_argument(*flags, dest=s.name, action=argparse.BooleanOptionalAction, default=s.default,
                                help=help_text)
        elif s.kind == "paths":
            parser.add_argument(*flags, dest=s.name, nargs="*", default=s.default, help=help_text)
        else:
            parser.add_argument(*flags, dest=s.name, type=option_type(s), default=s.default, help=help_text,
                                choices=s.choices or None)
    return specs


def values_of(args: argparse.Namespace, specs: Iterable[ParamSpec]) -> dict[str, Any]:
    """{name: parsed value} of the specs' options."""
    return {s.name: getattr(args, s.name) for s in specs}


def option_type(spec: ParamSpec):
    """argparse ``type`` for one setting: converted and bounds-checked by the spec."""

    def convert(text: str) -> Any:
        try:
            return spec.check(text, spec.flag)
        except DataError as exc:  # "--beta: parameter 'beta' must be > 0, got 0.0": argparse names the flag
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None

    convert.__name__ = spec.kind  # argparse names the type in its messages
    return convert


def _help(s: ParamSpec) -> str:
    parts = [s.help] if s.help else []
    if s.bounds_text():
        parts.append(s.bounds_text())
    if s.default not in (None, [], ()) and s.kind != "bool":
        parts.append(f"default {s.default}")
    return "; ".join(parts).replace("%", "%%")
