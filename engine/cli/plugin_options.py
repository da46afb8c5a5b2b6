"""``--sampler`` and ``--scorer``: a plug-in's name (engine.plugins) or a built-in checkpoint."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.plugins import BUILTIN_SAMPLER, BUILTIN_SCORER, load_scorer, sampler_names, scorer_names

if TYPE_CHECKING:
    from engine.body.model import BodyModel
    from engine.models.protocols import Scorer

__all__ = ["BUILTIN_SAMPLER", "load_scorer_option", "sampler_name"]


def sampler_name(value: str) -> str:
    """argparse type: an installed sampler's name (usage error listing them otherwise)."""
    names = sampler_names()
    if value not in names:
        raise argparse.ArgumentTypeError(f"no sampler named {value!r} (installed: {', '.join(names)})")
    return value


def load_scorer_option(value: str | None, body: BodyModel, device: str) -> Scorer:
    """The scorer ``--scorer`` names: a plug-in by its name (names win over paths), else
    the built-in HMR-Scorer from the checkpoint ``value`` (None: its default)."""
    if value is not None and value in scorer_names():
        return load_scorer(value, None, body, device)
    return load_scorer(BUILTIN_SCORER, value, body, device)
