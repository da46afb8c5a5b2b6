"""--min-size and --min-score: which detected people count (detect, import, sample)."""

from __future__ import annotations

import argparse
from typing import Any

from engine.cli.common import fraction

# Mirrors engine.detect's defaults without importing the detector at parse time.
DEFAULT_MIN_SIZE = 48.0
DEFAULT_MIN_SCORE = 0.5


def _size(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: a number of pixels >= 0") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"size {text} must be a number of pixels >= 0")
    return value


def add_person_thresholds(p: argparse.ArgumentParser) -> None:
    """--min-size and --min-score."""
    p.add_argument("--min-size", type=_size, default=DEFAULT_MIN_SIZE, metavar="PX",
                   help=f"skip people whose box's longer side is under PX pixels (default {DEFAULT_MIN_SIZE:g})")
    p.add_argument("--min-score", type=fraction("score"), default=DEFAULT_MIN_SCORE, metavar="S",
                   help=f"skip people the detector is less sure of than S, 0-1 (default {DEFAULT_MIN_SCORE:g})")


def threshold_params(args: argparse.Namespace) -> dict[str, float]:
    """The thresholds as job parameters."""
    return {"min_size": args.min_size, "min_score": args.min_score}


def detector_from(args: argparse.Namespace) -> Any:
    """A PoseDetector with the command's thresholds."""
    from engine.detect import PoseDetector

    return PoseDetector(min_size=args.min_size, min_score=args.min_score)
