"""The real-footage track's data: people of a calibrated multi-camera recording, once.

Every wanted frame of every camera (``RealBudget.pool_frames`` / ``test_frames``) is
decoded (``engine.multiview.video``), written as a JPEG into the cache folder, and the
detector's largest person in it becomes a ``PersonSample`` with the detector's
keypoints, box, world landmarks, visibility and presence (what detector-conditioned
models read). The pool's people carry no 3D label. The test frames' 12 evaluation joints
are triangulated from the same detections (``engine.multiview.triangulation``, frames
reprojecting worse than ``max_error_px`` dropped), and each kept view's reference is
that body rotated into its camera (``engine.multiview.evaluate.reference_in_camera``).

A folder is named by the strides and the error bound, so budgets never share a set.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from engine.data.crops import square_crop
from engine.data.load import load_dataset, save_annotation_file
from engine.data.records import PersonSample
from engine.errors import DataError, NoPersonError
from engine.experiments.budgets import RealBudget
from engine.multiview.calibration import check_frame_size, read_qca
from engine.multiview.evaluate import reference_in_camera
from engine.multiview.joints import to_eval12
from engine.multiview.recording import match_videos
from engine.multiview.triangulation import triangulate_frames
from engine.multiview.video import read_frames
from engine.output_files import atomic_output
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RealData:
    """pool / test: annotations.npz of the pool's and the test views' people.
    reference: npz with ``points`` (N test people, 12, 3) metres, each view's reference
    in the axes of a camera looking along its person's crop ray (where a model's body is
    oriented), hip midpoint at the origin, row for row with ``test``.
    summary: frames and views kept and dropped (JSON-able)."""

    pool: Path
    test: Path
    reference: Path
    summary: dict[str, Any]


def load_reference(data: RealData) -> tuple[list[PersonSample], np.ndarray]:
    """The test people and their (N, 12, 3) camera-oriented references."""
    records = load_dataset(data.test).records
    with np.load(data.reference) as z:
        points = np.asarray(z["points"], np.float64)
    if points.shape != (len(records), 12, 3):
        raise DataError(f"{data.reference}: {points.shape[0]} references for {len(records)} test people; "
                        "delete the folder to prepare it again")
    return records, points


def prepare_real_data(
    cache_dir: str | Path,
    calibration: str | Path,
    videos: Sequence[str | Path],
    budget: RealBudget,
    detector: Any = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> RealData:
    """Decode, detect, write and triangulate (or reuse) the recording's pool and test sets.

    detector: a ``PoseDetector`` (built when None). Raises DataError (calibration, videos,
    no test frame kept), ImageError (an undecodable video), ShapeError (frame size).
    """
    folder = Path(cache_dir) / (f"real-pool{budget.pool_stride}-test{budget.test_stride}"
                                f"-e{budget.max_error_px:g}")
    out = RealData(folder / "pool" / "annotations.npz", folder / "test" / "annotations.npz",
                   folder / "test" / "reference.npz", {})
    summary_path = folder / "summary.json"
    if summary_path.is_file() and all(p.is_file() for p in (out.pool, out.test, out.reference)):
        return RealData(out.pool, out.test, out.reference, json.loads(summary_path.read_text()))
    if detector is None:
        from engine.detect import PoseDetector

        detector = PoseDetector()
    cameras = read_qca(calibration)
    videos = match_videos(cameras, videos)
    pool_frames, test_frames = set(budget.pool_frames), list(budget.test_frames)
    last = max(max(pool_frames), max(test_frames)) + 1
    pool: list[PersonSample] = []
    test: dict[tuple[int, int], PersonSample] = {}
    seen = np.zeros((len(test_frames), len(cameras), 12, 3))
    images = folder / "frames"
    for sub in (images, out.pool.parent, out.test.parent):
        sub.mkdir(parents=True, exist_ok=True)
    for v, (cam, video) in enumerate(zip(cameras, videos)):
        for index, frame in read_frames(video, max_frames=last):
            if index not in pool_frames and index not in test_frames:
                continue
            check_cancel(should_cancel)
            check_frame_size(cam, frame.shape[1], frame.shape[0])
            try:
                person = detector.detect_all(frame).persons[0]  # the largest: the recording's subject
            except NoPersonError:
                log.info("%s frame %d: no person", video, index)
                continue
            record = _record(images / f"{cam.name}_{index:04d}.jpg", frame, person, f"{video.name}#{index}")
            if index in pool_frames:
                pool.append(record)
            else:
                f = test_frames.index(index)
                test[f, v] = record
                seen[f, v] = to_eval12(np.asarray(person.landmarks)[:, [0, 1, 3]])
        progress(ProgressEvent((v + 1) / len(cameras), f"detected {cam.name}"))
    reference = triangulate_frames(cameras, seen, budget.max_error_px)
    kept = [(f, v) for (f, v) in sorted(test) if f < len(reference.kept) and reference.kept[f]]
    if not kept or not pool:
        raise DataError(f"{calibration}: {len(kept)} test views within {budget.max_error_px:g} px and "
                        f"{len(pool)} pool people; the real track needs both")
    # A model's body is oriented as seen along its crop's ray; turning the reference by the
    # inverse of that ray's rotation (``Camera.ray_rotation``, as ``adhmr eval-multiview``
    # turns the candidates) leaves every hip-aligned distance as eval-multiview measures it.
    points = np.stack([reference_in_camera(reference.points[f], cameras[v].R)
                       @ cameras[v].ray_rotation(square_crop(test[f, v].box)[0]) for f, v in kept]).astype(np.float32)
    save_annotation_file(out.pool, pool)
    save_annotation_file(out.test, [test[k] for k in kept])
    with atomic_output(out.reference, "wb") as fh:
        np.savez(fh, points=points, frame=np.array([test_frames[f] for f, _ in kept]),
                 camera=np.array([cameras[v].name for _, v in kept]))
    summary = {"cameras": [c.name for c in cameras], "pool_frames": len(pool_frames), "pool_people": len(pool),
               "test_frames": len(test_frames), "test_frames_kept": int(reference.num_kept),
               "test_views": len(kept), "dropped_error": int(reference.dropped_error),
               "dropped_views": int(reference.dropped_views), "kept_error_px": float(reference.kept_error_px),
               "max_error_px": budget.max_error_px}
    with atomic_output(summary_path, "w") as fh:
        fh.write(json.dumps(summary, indent=1))
    log.info("real track data: %s", summary)
    return RealData(out.pool, out.test, out.reference, summary)


def _record(path: Path, frame: np.ndarray, person: Any, source: str) -> PersonSample:
    """Write ``frame`` (H, W, 3) RGB to ``path`` and describe the detected person in it."""
    if not path.is_file():
        with atomic_output(path, "wb") as fh:
            fh.write(cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    # Absolute: readers resolve a relative path against the annotation file's folder, not the cwd.
    return PersonSample(str(path.resolve()), np.asarray(person.box, np.float32),
                        np.asarray(person.keypoints, np.float32), source=source, world_landmarks=np.asarray(person.world_landmarks, np.float32),
                        landmark_visibility=np.asarray(person.landmark_visibility, np.float32),
                        landmark_presence=np.asarray(person.landmark_presence, np.float32))
