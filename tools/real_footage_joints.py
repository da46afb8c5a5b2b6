"""Where each method's pose goes wrong on real footage: PA-MPJPE per evaluation joint.

    python tools/real_footage_joints.py [--stride 5] [--frames N] [-M 20] [--steps S] [--threads 1]

Runs the real-footage benchmark (``benchmarks/bench_real.py``, same options and the same
Pose2Sim recording) and prints a markdown table: for BlazePose's world landmarks, the fit
and the diffusion model's Zero-noise, Select and Min (oracle best of M) hypotheses, the
PA-MPJPE of each of the 12 evaluation joints (each view aligned as a whole, as the
benchmark does) and their mean, mm; and, as a what-if, the diffusion hypothesis that
agrees best with BlazePose's world landmarks after alignment ("closest to BlazePose": a
selection rule no default uses). Nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_real import build_parser, with_demo  # noqa: E402
from engine.cli.eval_multiview_cmd import run_evaluation  # noqa: E402
from engine.metrics import similarity_procrustes  # noqa: E402
from engine.multiview.joints import EVAL12_NAMES, hip_aligned  # noqa: E402

SHORT = {"left": "L", "right": "R"}


def joint_errors(hypotheses: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(K, 12, 3) hypotheses and (12, 3) reference, metres -> (K, 12) per-joint distances
    after each hypothesis's similarity alignment, mm."""
    pred = hip_aligned(np.asarray(hypotheses, np.float64))
    ref = np.broadcast_to(reference, pred.shape).copy()
    return np.linalg.norm(similarity_procrustes(pred, ref) - ref, axis=-1) * 1000.0


def main() -> None:
    parser = build_parser(__doc__.splitlines()[0])
    args = with_demo(parser.parse_args())
    rows: dict[str, list[np.ndarray]] = {}
    landmarks: dict[bytes, np.ndarray] = {}  # each view's BlazePose body, by its reference

    def on_view(names, hypotheses, reference, scores) -> None:
        errors = joint_errors(hypotheses, reference)
        if len(names) == 1:
            rows.setdefault(names[0], []).append(errors[0])
            if names[0] == "blazepose_world":
                landmarks[reference.tobytes()] = hypotheses[0]
            return
        rows.setdefault("zero_noise", []).append(errors[0])
        if scores is not None:
            rows.setdefault("select", []).append(errors[int(np.argmax(scores))])
        rows.setdefault("min", []).append(errors[int(errors.mean(1).argmin())])
        seen = landmarks.get(reference.tobytes())
        if seen is not None:
            closest = int(joint_errors(hypotheses, hip_aligned(seen)).mean(1).argmin())
            rows.setdefault("closest to BlazePose", []).append(errors[closest])

    run_evaluation(args, on_view=on_view)
    header = [" ".join(SHORT.get(w, w) for w in name.split("_")) for name in EVAL12_NAMES]
    print("| method | " + " | ".join(header) + " | mean | views |")
    print("|---|" + "---:|" * (len(header) + 2))
    for name, errors in rows.items():
        e = np.stack(errors)
        cells = " | ".join(f"{v:.0f}" for v in e.mean(0))
        print(f"| {name} | {cells} | {e.mean():.1f} | {len(e)} |")


if __name__ == "__main__":
    main()
