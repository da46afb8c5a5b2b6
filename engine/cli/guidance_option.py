"""--guidance SCALE, --guidance-world W, --no-orient and --fit-start LEVEL: how the
sampling commands use the detector's evidence (``SampleSettings.guidance_scale``,
``guidance_world``, ``orient``, ``fit_start``)."""

from __future__ import annotations

import argparse
import math

from engine.cli.common import fraction


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
    """--guidance SCALE (default 0: unguided) and --guidance-world W; see README, Guided sampling."""
    from engine.models.sample_settings import GUIDANCE_WORLD_WEIGHT

    p.add_argument("--guidance", type=guidance_scale, default=0.0, metavar="SCALE",
                   help="pull every DDIM step towards the detected 2D keypoints with this step size "
                        "(robust reprojection gradient, ScoreHMR-style; 0 = unguided, the default)")
    p.add_argument("--guidance-world", type=guidance_scale, default=GUIDANCE_WORLD_WEIGHT, metavar="W",
                   help="guided sampling also pulls the body's bone directions towards the detector's 3D "
                        f"world landmarks with this weight (default {GUIDANCE_WORLD_WEIGHT:g}; 0 = 2D only)")
    p.add_argument("--no-orient", action="store_true",
                   help="keep each candidate turned as sampled (default: turned to face as the detector's 3D "
                        "world landmarks do, camera re-fitted; engine.models.orientation)")


def add_fit_start_option(p: argparse.ArgumentParser) -> None:
    """--fit-start LEVEL; see README, Starting from the fit."""
    from engine.models.sample_settings import SampleSettings

    default = SampleSettings().fit_start
    p.add_argument("--fit-start", type=fraction("fit start"), default=default, metavar="LEVEL",
                   help="start the samples from the body fit noised to this fraction of the diffusion schedule, "
                        f"so they refine it (default {default:g}; 0 = from pure noise; needs the fit)")
