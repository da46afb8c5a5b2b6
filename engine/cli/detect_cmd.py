"""``adhmr detect``: 2D keypoints of the person in a photo, or of a project's photos."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.cli.jobs_cmd import open_project, report_result, run_in_foreground

# COCO-17 limbs, for the overlay picture.
SKELETON = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)
MIN_DRAWN_CONFIDENCE = 0.3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="detect the COCO-17 keypoints of the person in a photo (or a dataset's photos)",
        description=(
            "Find the most prominent person in a photo (or the one inside --box) with the\n"
            "BlazePose detector, and print the box and the 17 COCO keypoints (x, y pixels and\n"
            "confidence). No project needed. With --project and --dataset, detect the person\n"
            "of every photo of that dataset that has none yet (as a resumable 'detect' job).\n\n"
            "examples:\n"
            "  adhmr detect photo.jpg\n"
            "  adhmr detect group.jpg --box 120 40 380 600 --out keypoints.json --overlay seen.png\n"
            "  adhmr detect --project study.adhmr --dataset photos"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("photo", nargs="?", type=Path, help="the photo")
    p.add_argument("--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), default=None,
                   help="search only this region, pixels")
    p.add_argument("--out", type=Path, default=None, help="write the keypoints as JSON here")
    p.add_argument("--overlay", type=Path, default=None, help="write the photo with the keypoints drawn")
    p.add_argument("--project", type=Path, default=None, help="a project (with --dataset)")
    p.add_argument("--dataset", default=None, help="the project's dataset whose photos to detect")
    p.set_defaults(func=_run, parser=p)


def _run(args: argparse.Namespace) -> int:
    if args.photo is not None and args.project is None and args.dataset is None:
        return _photo(args)
    if args.photo is None and args.project is not None and args.dataset is not None:
        if args.box or args.out or args.overlay:
            args.parser.error("--box, --out and --overlay apply to a single photo, not to --project")
        return _dataset(args)
    args.parser.error("give a PHOTO, or --project and --dataset")
    return 2


def _photo(args: argparse.Namespace) -> int:
    from engine.detect import COCO17_NAMES, detect_file
    from engine.image_io import load_image, save_image
    from engine.output_files import atomic_output, check_output

    for out in (args.out, args.overlay):
        if out is not None:
            check_output(out, inputs=[args.photo])
    det = detect_file(args.photo, box=args.box)
    x0, y0, x1, y1 = det.box
    print(f"{args.photo}: person score {det.score:.2f}, box {x0:.0f} {y0:.0f} {x1:.0f} {y1:.0f}")
    for name, (x, y, c) in zip(COCO17_NAMES, det.keypoints, strict=True):
        print(f"  {name:<15} {x:8.1f} {y:8.1f}  {c:.2f}")
    if args.out is not None:
        doc = {
            "image": str(args.photo),
            "score": float(det.score),
            "box": [float(v) for v in det.box],
            "names": list(COCO17_NAMES),
            "keypoints": np.asarray(det.keypoints, float).round(3).tolist(),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(args.out) as fh:
            fh.write(json.dumps(doc, indent=1))
        print(f"wrote {args.out}")
    if args.overlay is not None:
        save_image(args.overlay, draw_keypoints(load_image(args.photo), det.keypoints, det.box))
        print(f"wrote {args.overlay}")
    return 0


def draw_keypoints(image: np.ndarray, keypoints: np.ndarray, box) -> np.ndarray:
    """The photo (H, W, 3) uint8 with the skeleton, the confident keypoints and the box."""
    import cv2

    out = image.copy()
    kp = np.asarray(keypoints, float)
    seen = kp[:, 2] >= MIN_DRAWN_CONFIDENCE
    thick = max(1, round(max(image.shape[:2]) / 300))
    for a, b in SKELETON:
        if seen[a] and seen[b]:
            cv2.line(out, tuple(np.round(kp[a, :2]).astype(int)), tuple(np.round(kp[b, :2]).astype(int)),
                     (0, 200, 255), thick, cv2.LINE_AA)
    for x, y, _ in kp[seen]:
        cv2.circle(out, (round(x), round(y)), 2 * thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
    x0, y0, x1, y1 = (round(v) for v in box)
    cv2.rectangle(out, (x0, y0), (x1, y1), (80, 255, 80), thick, cv2.LINE_AA)
    return out


def _dataset(args: argparse.Namespace) -> int:
    from engine.jobs import JobSpec

    with open_project(args.project) as project:
        result = run_in_foreground(project, JobSpec("detect", {"dataset": args.dataset}), "detect")
        code = report_result(project, result, "detect")
    if code:
        return code
    out = result.outputs
    for path, why in out["failed"]:
        print(f"no person: {path}: {why}")
    print(f"dataset {out['dataset']!r}: {out['detected']} of {out['images']} photos without a person detected")
    return 0
