"""``adhmr eval-multiview``: single-view methods against a triangulated multi-camera reference."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli.common import add_compute_options, apply_threads, seed_value
from engine.cli.guidance_option import add_fit_start_option, add_guidance_option
from engine.diffusion import DEFAULT_STEPS

if TYPE_CHECKING:
    from engine.multiview.recording import ViewFn


def register(sub: argparse._SubParsersAction) -> None:
    from engine.multiview.methods import METHOD_GROUPS
    from engine.multiview.triangulation import MAX_REPROJECTION_PX

    p = sub.add_parser(
        "eval-multiview",
        help="evaluate methods on a calibrated multi-camera recording of one person",
        description=(
            "Detect the person in every frame of every camera's video, triangulate a 3D reference\n"
            "(confidence-weighted DLT on undistorted BlazePose landmarks; frames with a large\n"
            "reprojection error are dropped and counted), then run each method on every view alone\n"
            "and report hip-aligned MPJPE and PA-MPJPE (mm) on 12 limb joints.\n"
            "The reference comes from the same detector the methods start from, so it favours it.\n\n"
            "Videos are matched to cameras by file name (cam01.mp4 for camera cam01), else in order.\n\n"
            "examples:\n"
            "  adhmr eval-multiview Calib.qca.txt cam01.mp4 cam02.mp4 cam03.mp4 cam04.mp4\n"
            "  adhmr eval-multiview Calib.qca.txt videos/*.mp4 --stride 5 --out eval.json\n"
            "  adhmr eval-multiview Calib.qca.txt videos/*.mp4 --methods diffusion --checkpoint runs/dpo"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("calibration", type=Path, help="Qualisys .qca.txt calibration")
    p.add_argument("videos", type=Path, nargs="+", help="one synchronised video per camera")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    p.add_argument("--methods", default=",".join(METHOD_GROUPS),
                   help=f"comma-separated, from {', '.join(METHOD_GROUPS)} (default: all); "
                        "diffusion reports zero_noise, select and min")
    p.add_argument("--stride", type=int, default=1, help="use every N-th frame (default 1)")
    p.add_argument("--frames", type=int, default=None, help="at most this many frames per video")
    p.add_argument("--first-frame", type=int, default=0, help="start at this frame (default 0)")
    p.add_argument("--max-error", type=float, default=MAX_REPROJECTION_PX,
                   help=f"drop frames whose mean reprojection error is over this, px (default {MAX_REPROJECTION_PX:.0f})")
    p.add_argument("--checkpoint", default=None, help="base or DPO checkpoint (default: the bundled base)")
    p.add_argument("--scorer", default=None, help="scorer checkpoint (default: the bundled scorer)")
    p.add_argument("-M", "--num-candidates", "--hypotheses", dest="num_candidates", type=int, default=20,
                   help="candidates per view (default 20)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="DDIM steps (network evaluations)")
    p.add_argument("--seed", type=seed_value, default=0)
    add_guidance_option(p)
    p.add_argument("--fit", dest="with_fit", action=argparse.BooleanOptionalAction, default=True,
                   help="the body fit is each view's last diffusion candidate, and where the samples start "
                        "(--fit-start), as in adhmr sample (default on; --no-fit: the samples alone, from noise)")
    add_fit_start_option(p)
    add_compute_options(p, device_default="cpu")
    p.set_defaults(func=_run)


def run_evaluation(args: argparse.Namespace, on_view: ViewFn | None = None):
    """Build the methods from the options and evaluate; returns a RecordingResult.
    on_view: passed to ``evaluate_recording`` (every view's hypotheses and reference)."""
    from engine.cli.progress import TqdmProgress
    from engine.detect import PoseDetector
    from engine.errors import DataError
    from engine.multiview.methods import build_methods
    from engine.multiview.recording import evaluate_recording

    if args.stride < 1 or (args.frames is not None and args.frames < 1) or args.num_candidates < 1:
        raise DataError("--stride, --frames and -M must be at least 1")
    if args.first_frame < 0:
        raise DataError("--first-frame must be at least 0")
    apply_threads(args)
    groups = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    methods = build_methods(groups, args.checkpoint, args.scorer, args.num_candidates, args.steps,
                            args.seed, args.device, guidance_scale=args.guidance,
                            guidance_world=args.guidance_world, orient=not args.no_orient,
                            with_fit=args.with_fit, fit_start=args.fit_start)
    with TqdmProgress("eval-multiview") as progress:
        return evaluate_recording(
            args.calibration, args.videos, methods, PoseDetector(), args.stride, args.frames,
            args.max_error, progress=progress, on_view=on_view, first_frame=args.first_frame,
        )


def _run(args: argparse.Namespace) -> int:
    result = run_evaluation(args)
    print(result.summary())
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result.to_dict(), indent=1) + "\n")
        print(f"wrote {args.out}")
    return 0
