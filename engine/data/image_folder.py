"""A folder of photos with no annotations: boxes and keypoints from the pose detector."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.records import LoadResult, PersonSample, reason
from engine.errors import DataError, DetectorError, ImageError, ShapeError
from engine.image_io import load_image
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder`` (by suffix, case-insensitive), sorted by name.

    Raises:
        DataError: the folder does not exist or is not a folder.
    """
    p = Path(folder)
    if not p.is_dir():
        raise DataError(f"{p}: no such folder")
    return sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and not f.is_dir())


def detect_image(path: str | Path, detector: Any) -> PersonSample:
    """A record for the most prominent person in one photo.

    detector: an object with ``detect(image (H, W, 3) uint8 RGB) -> PersonDetection``
        (``engine.detect.PoseDetector``).

    Raises:
        ImageError: the file is missing or not a readable image.
        DetectorError: the detector failed on it (NoPersonError: nobody in it).
    """
    image = load_image(path)
    det = detector.detect(image)
    extra = {"detection_score": np.float32(det.score)}
    landmarks = getattr(det, "landmarks", None)
    if landmarks is not None:
        extra["landmarks"] = np.asarray(landmarks, np.float32)
    return PersonSample(
        image_path=os.path.abspath(path),
        box=np.asarray(det.box, np.float32),
        keypoints=np.asarray(det.keypoints, np.float32),
        source="detector",
        extra=extra,
    )


def load_image_folder(
    folder: str | Path,
    detector: Any = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> LoadResult:
    """Records for every photo in a folder, from the pose detector.

    detector: an ``engine.detect.PoseDetector`` (or anything with its ``detect``); one is
        built when None.

    Returns:
        LoadResult: a record per image with a person (box and COCO-17 keypoints from the
        detector, ``extra['landmarks']`` (33, 4) and ``extra['detection_score']``), and
        (path, reason) for each image that is unreadable or shows nobody.

    Raises:
        DataError: ``folder`` is not a folder.
        DetectorError: the detector cannot be built (weights or runtime missing).
        JobCancelled: ``should_cancel`` returned True.
    """
    files = list_images(folder)
    if detector is None:
        from engine.detect import PoseDetector

        detector = PoseDetector()
    records: list[PersonSample] = []
    rejected: list[tuple[str, str]] = []
    for i, f in enumerate(files):
        check_cancel(should_cancel)
        try:
            records.append(detect_image(f, detector))
        except (ImageError, DetectorError, DataError, ShapeError) as exc:
            rejected.append((str(f), reason(f, exc)))
        progress(ProgressEvent((i + 1) / len(files), f"{i + 1}/{len(files)} images"))
    if not files:
        log.info("%s: no image files", folder)
    return LoadResult(records, rejected)
