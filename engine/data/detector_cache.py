"""The pose detector's outputs for every person of a dataset, computed once and cached.

A detector-conditioned model must see at training what it sees on a real photo: the
detector's keypoints and world landmarks, never the render's ground truth. Running the
detector on each training image (about 20-50 ms) every epoch would dominate training, so
:func:`detect_dataset` runs it once per record, inside the record's box, and
:func:`save_detections` writes the result beside the annotation file
(``annotations.npz`` -> ``annotations.detector.npz``) with a fingerprint of the records
it belongs to, so a cache of another or edited dataset is refused rather than misread.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.records import PersonSample
from engine.errors import DataError, NoPersonError
from engine.image_io import load_image
from engine.output_files import atomic_output
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)

CACHE_SUFFIX = ".detector.npz"
_KEYS = ("keypoints", "world_landmarks", "landmark_visibility", "landmark_presence", "found")


@dataclass(frozen=True, eq=False)
class DatasetDetections:
    """The detector's outputs for N records, aligned with them.

    keypoints: (N, 17, 3) float32 COCO-17 px + confidence (0 where missing).
    world_landmarks: (N, 33, 3) float32 metres. landmark_visibility,
    landmark_presence: (N, 33) float32 in [0, 1]. found: (N,) bool, False where the
    detector found nobody in the record's box (every other value of the row is 0).
    """

    keypoints: np.ndarray
    world_landmarks: np.ndarray
    landmark_visibility: np.ndarray
    landmark_presence: np.ndarray
    found: np.ndarray

    def __len__(self) -> int:
        return int(self.found.shape[0])

    def head(self, n: int | None) -> "DatasetDetections":
        """The first ``n`` rows (all when None)."""
        return DatasetDetections(*(getattr(self, k)[:n] for k in _KEYS))

    @classmethod
    def from_records(cls, records: Sequence[PersonSample]) -> "DatasetDetections":
        """What records that came from the detector (photos imported into a project, the
        detector's own exports) already carry: their keypoints are the detector's."""
        n = len(records)
        out = cls.empty(n)
        for i, r in enumerate(records):
            out.keypoints[i] = r.keypoints
            if r.world_landmarks is not None:
                out.world_landmarks[i] = r.world_landmarks
                out.landmark_visibility[i] = 1.0 if r.landmark_visibility is None else r.landmark_visibility
                out.landmark_presence[i] = 1.0 if r.landmark_presence is None else r.landmark_presence
                out.found[i] = True
        return out

    @classmethod
    def empty(cls, n: int) -> "DatasetDetections":
        return cls(np.zeros((n, 17, 3), np.float32), np.zeros((n, 33, 3), np.float32),
                   np.zeros((n, 33), np.float32), np.zeros((n, 33), np.float32), np.zeros(n, bool))


def cache_path(annotations: str | Path) -> Path:
    """Where the detections of an annotation file are cached."""
    p = Path(annotations)
    return p.with_name(p.name.split(".")[0] + CACHE_SUFFIX)


def fingerprint(records: Sequence[PersonSample]) -> str:
    """A hash of what the detector reads of each record: its image path and box."""
    h = hashlib.sha256()
    for r in records:
        h.update(Path(r.image_path).name.encode())
        h.update(np.asarray(r.box, np.float32).round(2).tobytes())
    return h.hexdigest()


def detect_dataset(
    records: Sequence[PersonSample],
    detector,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> DatasetDetections:
    """Run ``detector`` (a ``PoseDetector``) on each record, inside its box.

    An image that cannot be read stops the run (``ImageError`` names it); a box where the
    detector finds nobody gives a row with ``found`` False. should_cancel() is polled
    between records (JobCancelled).
    """
    out = DatasetDetections.empty(len(records))
    last_path, image = None, None
    for i, r in enumerate(records):
        check_cancel(should_cancel)
        if r.image_path != last_path:
            image, last_path = load_image(r.image_path), r.image_path
        try:
            d = detector.detect(image, tuple(float(v) for v in r.box))
        except NoPersonError:
            d = None
        if d is not None:
            out.keypoints[i] = d.keypoints
            out.world_landmarks[i] = d.world_landmarks
            out.landmark_visibility[i] = d.landmark_visibility
            out.landmark_presence[i] = d.landmark_presence
            out.found[i] = True
        if (i + 1) % 25 == 0 or i + 1 == len(records):
            progress(ProgressEvent((i + 1) / len(records), f"{i + 1}/{len(records)} people"))
    log.info("detector found %d of %d people", int(out.found.sum()), len(records))
    return out


def save_detections(path: str | Path, detections: DatasetDetections, records: Sequence[PersonSample]) -> Path:
    """Write ``detections`` of ``records`` to ``path`` (atomically)."""
    if len(detections) != len(records):
        raise DataError(f"{path}: {len(detections)} detections for {len(records)} records")
    path = Path(path)
    with atomic_output(path, "wb") as f:
        np.savez(f, fingerprint=np.array(fingerprint(records)), **{k: getattr(detections, k) for k in _KEYS})
    return path


def load_detections(path: str | Path, records: Sequence[PersonSample]) -> DatasetDetections:
    """Read the cached detections of ``records``.

    Raises DataError: the file is missing, malformed, or belongs to other records (the
    message names the command that makes it).
    """
    path = Path(path)
    remedy = f"run `adhmr detect-dataset {path.with_name(path.name.replace(CACHE_SUFFIX, '.npz'))}`"
    if not path.is_file():
        raise DataError(f"{path}: no cached detector outputs; {remedy}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in _KEYS}
            stored = str(z["fingerprint"])
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path}: not a detector cache ({exc}); {remedy}") from None
    if stored != fingerprint(records):
        raise DataError(f"{path}: made for other records (the dataset changed since); {remedy}")
    try:
        out = DatasetDetections(
            arrays["keypoints"].astype(np.float32), arrays["world_landmarks"].astype(np.float32),
            arrays["landmark_visibility"].astype(np.float32), arrays["landmark_presence"].astype(np.float32),
            arrays["found"].astype(bool))
    except ValueError as exc:
        raise DataError(f"{path}: malformed ({exc}); {remedy}") from None
    n = len(records)
    shapes = {"keypoints": (n, 17, 3), "world_landmarks": (n, 33, 3), "landmark_visibility": (n, 33),
              "landmark_presence": (n, 33), "found": (n,)}
    for k, shape in shapes.items():
        if getattr(out, k).shape != shape or not np.isfinite(getattr(out, k)).all():
            raise DataError(f"{path}: {k} has shape {getattr(out, k).shape}, expected finite {shape}; {remedy}")
    return out


def detections_for(path: str | Path, records: Sequence[PersonSample]) -> DatasetDetections:
    """The detector's outputs for the records read from ``path``.

    An annotation file's cache when it has one; else what the records carry themselves
    (photos, which came through the detector). Raises DataError when neither holds
    (the message names ``adhmr detect-dataset``).
    """
    cached = cache_path(path)
    annotations = Path(path).suffix.lower() in (".npz", ".json")
    carried = bool(records) and all(r.world_landmarks is not None for r in records)
    if not cached.is_file() and (not annotations or carried):
        return DatasetDetections.from_records(records)
    return load_detections(cached, records)


def concat_detections(parts: Sequence[DatasetDetections]) -> DatasetDetections:
    """Rows of several sources, in order."""
    return DatasetDetections(*(np.concatenate([getattr(p, k) for p in parts]) for k in _KEYS))


def detections_matching(path: str | Path, records: Sequence[PersonSample]) -> DatasetDetections:
    """The detector's outputs for ``records``, a subset (in any order) of those read from
    ``path``, matched by image and box. Raises DataError as ``detections_for`` does, or
    when a record is not among the file's."""
    from engine.data.load import load_dataset

    everyone = load_dataset(path, check_images=True).records
    every = detections_for(path, everyone)
    row = {(r.image_path, np.asarray(r.box, np.float32).tobytes()): i for i, r in enumerate(everyone)}
    try:
        rows = [row[(r.image_path, np.asarray(r.box, np.float32).tobytes())] for r in records]
    except KeyError:
        raise DataError(f"{path}: a record asked for is not in the file") from None
    return DatasetDetections(*(getattr(every, k)[rows] for k in _KEYS))


def ensure_detections(path: str | Path, progress: ProgressFn = no_progress,
                      should_cancel: CancelFn = never_cancel) -> Path:
    """Make ``path``'s detector cache if it has none or a stale one (the detector runs
    once, inside each record's box, as ``adhmr detect-dataset`` does); returns its path.
    What a command that evaluates a detector-conditioned model on a fresh dataset calls,
    so the user need not run detect-dataset first."""
    from engine.data.load import read_annotation_file
    from engine.detect import PoseDetector

    out = cache_path(path)
    records = read_annotation_file(path).records
    if out.is_file():
        try:
            load_detections(out, records)
            return out
        except DataError as exc:
            log.info("remaking the detector cache: %s", exc)
    log.info("running the pose detector on %s (once; cached in %s)", path, out)
    return save_detections(out, detect_dataset(records, PoseDetector(), progress, should_cancel), records)
