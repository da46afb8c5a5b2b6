"""``adhmr detect-dataset``: cache the pose detector's outputs for every person of a dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.common import threads_count
from engine.cli.progress import TqdmProgress


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect-dataset",
        help="run the pose detector once on every person of an annotation file (for detector-conditioned training)",
        description=(
            "Run BlazePose inside each record's box and write its keypoints, world landmarks,\n"
            "visibility and presence beside the annotation file (annotations.npz ->\n"
            "annotations.detector.npz). `adhmr train-base --detector-inputs`, `train-scorer` and\n"
            "`eval` read it, so a detector-conditioned model sees the detector's output on renders\n"
            "as it does on real photos. People the detector misses are kept as 'not found'.\n\n"
            "examples:\n"
            "  adhmr detect-dataset data/studio_train/annotations.npz"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("annotations", type=Path, help="the annotation file (npz or COCO JSON)")
    p.add_argument("--force", action="store_true", help="recompute even when a matching cache exists")
    p.add_argument("--threads", type=threads_count, default=2, help="CPU threads of the detector (default 2)")
    p.set_defaults(func=_run, parser=p)


def _run(args: argparse.Namespace) -> int:
    from engine.data.detector_cache import cache_path, detect_dataset, load_detections, save_detections
    from engine.data.load import read_annotation_file
    from engine.detect import PoseDetector
    from engine.errors import DataError

    records = read_annotation_file(args.annotations).records
    out = cache_path(args.annotations)
    if not args.force and out.is_file():
        try:
            found = load_detections(out, records).found
        except DataError:
            pass
        else:
            print(f"{out}: already cached ({int(found.sum())}/{len(found)} people found); --force recomputes")
            return 0
    with TqdmProgress("detect") as bar:
        detections = detect_dataset(records, PoseDetector(num_threads=args.threads), bar)
    save_detections(out, detections, records)
    print(f"wrote {out}: the detector found {int(detections.found.sum())} of {len(records)} people")
    return 0
