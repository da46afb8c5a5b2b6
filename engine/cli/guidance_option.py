"""--guidance SCALE: guided sampling (``SampleSettings.guidance_scale``) on the sampling commands."""

from __future__ import annotations

import argparse
import math


def guidance_scale(text: str) -> float:
    """argparse type for --guidance: a finite number >= 0 (usage error otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid guidance {text!r}: a number >= 0") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"guidance {text} must be a finite number >= 0")
    return value


def add_guidance_option(p: argparse.ArgumentParser) -> None:
    """--guidance SCALE (default 0: unguided); see README, Guided sampling."""
    p.add_argument("--guidance", type=guidance_scale, default=0.0, metavar="SCALE",
                   help="pull every DDIM step towards the detected 2D keypoints with this step size "
                        "(robust reprojection gradient, ScoreHMR-style; 0 = unguided, the default)")
