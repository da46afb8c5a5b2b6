"""``adhmr detect``: 2D keypoints of every person in a photo, or of a project's photos."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.cli.jobs_cmd import open_project, report_result, run_in_foreground
from engine.cli.person_options import add_person_thresholds, detector_from, threshold_params

# COCO-17 limbs, for the overlay picture.
SKELETON = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)
MIN_DRAWN_CONFIDENCE = 0.3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="detect the COCO-17 keypoints of every person in a photo (or a dataset's photos)",
        description=(
            "Find every person in a photo (or the one inside --box) with the BlazePose detector,\n"
            "largest first, and print each one's box and 17 COCO keypoints (x, y pixels and\n"
            "confidence; 0 for a point hidden or outside the photo). --out writes them all as a\n"
            "JSON list, with the 33 landmarks and the 3D world landmarks (schema in the README).\n"
            "No project needed. With --project and --dataset, detect every person of each photo\n"
            "of that dataset that has none yet (as a resumable 'detect' job).\n\n"
            "examples:\n"
            "  adhmr detect photo.jpg\n"
            "  adhmr detect street.jpg --min-size 80 --out people.json --overlay seen.png\n"
            "  adhmr detect group.jpg --box 120 40 380 600\n"
            "  adhmr detect --project study.adhmr --dataset photos"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("photo", nargs="?", type=Path, help="the photo")
    p.add_argument("--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), default=None,
                   help="find only the one person inside this region, pixels")
    p.add_argument("--out", type=Path, default=None, help="write the people as a JSON list here")
    p.add_argument("--overlay", type=Path, default=None, help="write the photo with the keypoints drawn")
    p.add_argument("--project", type=Path, default=None, help="a project (with --dataset)")
    p.add_argument("--dataset", default=None, help="the project's dataset whose photos to detect")
    add_person_thresholds(p)
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


def _rounded(a: Any, digits: int) -> list:
    return np.asarray(a, float).round(digits).tolist()


def person_json(image: str, index: int, det: Any) -> dict[str, Any]:
    """One person of ``adhmr detect --out``'s list (the schema the README documents)."""
    return {
        "image": image,
        "person": index,
        "score": round(float(det.score), 4),
        "box": _rounded(det.box, 2),
        "keypoints": _rounded(det.keypoints, 3),
        "landmarks": _rounded(det.landmarks, 3),
        "world_landmarks": _rounded(det.world_landmarks, 4),
        "landmark_visibility": _rounded(det.landmark_visibility, 3),
        "landmark_presence": _rounded(det.landmark_presence, 3),
    }


def _photo(args: argparse.Namespace) -> int:
    from engine.detect import COCO17_NAMES, detect_all_file, detect_file
    from engine.image_io import load_image, save_image
    from engine.output_files import atomic_output, check_output

    for out in (args.out, args.overlay):
        if out is not None:
            check_output(out, inputs=[args.photo])
    detector = detector_from(args)
    if args.box is not None:
        people = [detect_file(args.photo, box=args.box, detector=detector)]
    else:
        found = detect_all_file(args.photo, detector=detector)
        people = list(found.persons)
        if found.too_small:
            print(f"{args.photo}: {found.too_small} people smaller than {args.min_size:g} px skipped")
    print(f"{args.photo}: {len(people)} {'person' if len(people) == 1 else 'people'}")
    for k, det in enumerate(people):
        x0, y0, x1, y1 = det.box
        print(f"person {k}: score {det.score:.2f}, box {x0:.0f} {y0:.0f} {x1:.0f} {y1:.0f}")
        for name, (x, y, c) in zip(COCO17_NAMES, det.keypoints, strict=True):
            print(f"  {name:<15} {x:8.1f} {y:8.1f}  {c:.2f}")
    if args.out is not None:
        doc = [person_json(str(args.photo), k, det) for k, det in enumerate(people)]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(args.out) as fh:
            fh.write(json.dumps(doc, indent=1))
        print(f"wrote {args.out}")
    if args.overlay is not None:
        drawn = load_image(args.photo)
        for det in people:
            drawn = draw_keypoints(drawn, det.keypoints, det.box)
        save_image(args.overlay, drawn)
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
        params = {"dataset": args.dataset, **threshold_params(args)}
        result = run_in_foreground(project, JobSpec("detect", params), "detect")
        code = report_result(project, result, "detect")
    if code:
        return code
    out = result.outputs
    for path, why in out["failed"]:
        print(f"no person: {path}: {why}")
    print(f"dataset {out['dataset']!r}: people found in {out['detected']} of {out['images']} photos without a person")
    return 0
