"""Accuracy on real footage: Pose2Sim's four-camera Demo_SinglePerson recording.

Usage (from the repository root):
    python -m benchmarks.bench_real [--stride 1] [--frames N] [--out docs/real_footage_eval.json]

Pose2Sim (BSD-3-Clause) ships four synchronised, calibrated videos of one person (about
100 frames each, 1088x1920) and their Qualisys calibration inside its wheel. The first
run fetches the wheel with ``pip download --no-deps pose2sim==0.10.49`` into the cache
folder (``--data-dir``) and unzips the five files it needs; they are never committed.

Then it runs ``adhmr eval-multiview`` on them (see ``engine.multiview.recording``) and
writes ``{method: {"mpjpe": mm, "pa_mpjpe": mm, "views": n}}``. The reference is
triangulated from the same detector's 2D landmarks, so it is biased towards BlazePose.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.cli.eval_multiview_cmd import run_evaluation
from engine.cli.guidance_option import add_fit_start_option
from engine.diffusion import DEFAULT_STEPS
from engine.models.sample_settings import GUIDANCE_WORLD_WEIGHT
from engine.multiview.methods import METHOD_GROUPS
from engine.multiview.pose2sim_demo import default_data_dir, demo_files, fetch_demo
from engine.multiview.triangulation import MAX_REPROJECTION_PX

REPO = Path(__file__).resolve().parents[1]


def build_parser(description: str) -> argparse.ArgumentParser:
    """The options of ``adhmr eval-multiview`` for the Pose2Sim demo (shared with
    ``tools/real_footage_joints.py``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "real_footage_eval.json")
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--first-frame", type=int, default=0)
    parser.add_argument("--methods", default=",".join(METHOD_GROUPS))
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--scorer", default=None)
    parser.add_argument("-M", "--num-candidates", "--hypotheses", dest="num_candidates", type=int, default=20)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--guidance", type=float, default=0.0, help="guided sampling scale (0: unguided)")
    parser.add_argument("--guidance-world", type=float, default=GUIDANCE_WORLD_WEIGHT,
                        help="guided sampling's world-landmark weight")
    parser.add_argument("--no-orient", action="store_true", help="keep the candidates turned as sampled")
    parser.add_argument("--fit", dest="with_fit", action=argparse.BooleanOptionalAction, default=True,
                        help="the body fit is the last diffusion candidate and the samples' start (--no-fit: neither)")
    add_fit_start_option(parser)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    return parser


def with_demo(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with the demo's calibration and videos (fetched on first use) and the
    reference's error limit filled in, ready for ``run_evaluation``."""
    demo = fetch_demo(args.data_dir)
    args.calibration, args.videos = demo_files(demo)
    args.max_error = MAX_REPROJECTION_PX
    return args


def main() -> None:
    args = with_demo(build_parser(__doc__.splitlines()[0]).parse_args())
    result = run_evaluation(args)
    print(result.summary())
    args.out.write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
