"""A folder of photos with no annotations: every person's box, keypoints, world landmarks
and mask from the pose detector."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.data.masks import encode_mask
from engine.data.records import LoadResult, PersonSample, reason
from engine.errors import DataError, DetectorError, ImageError, ShapeError
from engine.image_io import load_image
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

if TYPE_CHECKING:
    from engine.detect import PersonDetection, PoseDetector

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
# Image formats a folder may hold that are not read: an import names each such file
# instead of skipping it silently.
UNSUPPORTED_IMAGE_SUFFIXES = frozenset({".gif", ".heic", ".heif", ".avif", ".jxl", ".jp2", ".svg", ".ico",
                                        ".psd", ".dng", ".cr2", ".nef", ".arw"})


def unsupported_images(folder: str | Path) -> list[Path]:
    """Files directly in ``folder`` whose suffix names an image format that is not read."""
    return sorted(f for f in Path(folder).iterdir() if f.suffix.lower() in UNSUPPORTED_IMAGE_SUFFIXES and f.is_file())


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder`` (by suffix, case-insensitive), sorted by name.

    Raises:
        DataError: the folder does not exist or is not a folder.
    """
    p = Path(folder)
    if not p.is_dir():
        raise DataError(f"{p}: no such folder")
    return sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and not f.is_dir())


def detection_record(path: str | Path, det: PersonDetection) -> PersonSample:
    """A record of one detected person (an ``engine.detect.PersonDetection``) in a photo:
    box, keypoints, world landmarks, visibility, presence and the mask (PNG), with
    ``extra['landmarks']`` (33, 4) and ``extra['detection_score']``."""
    return PersonSample(
        image_path=os.path.abspath(path),
        box=np.asarray(det.box, np.float32),
        keypoints=np.asarray(det.keypoints, np.float32),
        source="detector",
        extra={"detection_score": np.asarray(det.score, np.float32), "landmarks": np.asarray(det.landmarks, np.float32)},
        world_landmarks=det.world_landmarks,
        landmark_visibility=det.landmark_visibility,
        landmark_presence=det.landmark_presence,
        mask=encode_mask(det.mask),
    )


def detect_people(path: str | Path, detector: PoseDetector) -> list[PersonSample]:
    """A record for every person in one photo, largest box first.

    detector: an object with ``detect_all(image (H, W, 3) uint8 RGB) -> PhotoDetections``
        (``engine.detect.PoseDetector``; its own min_size / min_score apply).

    Raises:
        ImageError: the file is missing or not a readable image.
        DetectorError: the detector failed on it (NoPersonError: nobody in it, the
            message counting people skipped for their size).
    """
    image = load_image(path)
    found = detector.detect_all(image)
    if found.too_small:
        log.info("%s: %d people under the minimum size skipped", path, found.too_small)
    return [detection_record(path, det) for det in found.persons]


def load_image_folder(
    folder: str | Path,
    detector: PoseDetector | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> LoadResult:
    """Records for every photo in a folder, from the pose detector.

    detector: an ``engine.detect.PoseDetector`` (or anything with its ``detect_all``);
        one is built when None.

    Returns:
        LoadResult: a record per person found (see :func:`detection_record`), photo by
        photo, and (path, reason) for each image that is unreadable or shows nobody.

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
            records += detect_people(f, detector)
        except (ImageError, DetectorError, DataError, ShapeError) as exc:
            rejected.append((str(f), reason(f, exc)))
        progress(ProgressEvent((i + 1) / len(files), f"{i + 1}/{len(files)} images"))
    if not files:
        log.info("%s: no image files", folder)
    return LoadResult(records, rejected)
