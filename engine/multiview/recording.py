"""Evaluate single-view methods on a calibrated multi-camera recording of one person.

1. Detect the person in every frame of every video (BlazePose; the largest person).
2. Triangulate the 12 evaluation joints per frame from the detector's 2D landmarks
   (confidence-weighted DLT on undistorted pixels) and drop frames whose mean
   reprojection error is over ``max_error_px`` (:mod:`engine.multiview.triangulation`).
3. For every kept frame and every camera that saw the person, run each method on that
   view alone (with that camera's calibration, which a method may use: see
   :mod:`engine.multiview.methods`) and compare it with the reference rotated into that
   camera (:mod:`engine.multiview.evaluate`).

The reference is biased towards the detector: it is triangulated from the same 2D
landmarks the methods start from, so it rewards agreeing with BlazePose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import DataError, NoPersonError
from engine.multiview.calibration import Camera, check_frame_size, read_qca
from engine.multiview.evaluate import (
    MethodResult,
    reference_in_camera,
    summarise_hypotheses,
    summarise_single,
    view_errors,
)
from engine.multiview.joints import EVAL12_FLIP, to_eval12
from engine.multiview.methods import Method
from engine.multiview.triangulation import MAX_REPROJECTION_PX, Reference, side_swaps, triangulate_frames
from engine.multiview.video import read_frames
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)

ViewFn = Callable[[tuple[str, ...], np.ndarray, np.ndarray, "np.ndarray | None"], None]
"""(method names, hypotheses (K, 12, 3), reference (12, 3), scores (K,) or None) for one
evaluated view."""


@dataclass(frozen=True)
class RecordingResult:
    """methods: {method name: result}, in the order the methods were given.
    frames: frames read per video. reference: the triangulation (frames kept, dropped).
    side_swaps: {camera name: dropped frames that pass with its left and right swapped}."""

    methods: dict[str, MethodResult]
    frames: int
    reference: Reference = field(repr=False)
    side_swaps: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, dict[str, float | int]]:
        """{method name: {"mpjpe": mm, "pa_mpjpe": mm, "views": n}}."""
        return {name: r.to_dict() for name, r in self.methods.items()}

    def summary(self) -> str:
        """The frames kept and dropped, then a markdown table of the methods, mm."""
        ref = self.reference
        swaps = ", ".join(f"{name}: {n}" for name, n in self.side_swaps.items())
        lines = [
            f"{self.frames} frames, {ref.num_kept} triangulated, mean reprojection error "
            f"{ref.kept_error_px:.1f} px (dropped: {ref.dropped_error} with a mean reprojection error "
            f"over {ref.max_error_px:.0f} px, {ref.dropped_views} with a joint seen in fewer than two views)",
            f"dropped frames that pass with one camera's left and right swapped: "
            f"{sum(self.side_swaps.values())} ({swaps or 'none'})",
            "",
            "| method | MPJPE (mm) | PA-MPJPE (mm) | views |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {n} | {r.mpjpe:.1f} | {r.pa_mpjpe:.1f} | {r.views} |" for n, r in self.methods.items()]
        return "\n".join(lines)


def match_videos(cameras: Sequence[Camera], videos: Sequence[str | Path]) -> list[Path]:
    """The video of each camera: the one whose file stem is the camera's name, else, when
    no stem names a camera, the videos in the order given.

    Raises DataError: the counts differ, or some but not all stems name cameras.
    """
    paths = [Path(v) for v in videos]
    if len(paths) != len(cameras):
        raise DataError(f"{len(paths)} videos for {len(cameras)} calibrated cameras")
    by_stem = {v.stem: v for v in paths}
    named = [by_stem.get(c.name) for c in cameras]
    if all(v is not None for v in named):
        return named  # type: ignore[return-value]
    if any(v is not None for v in named):
        missing = [c.name for c, v in zip(cameras, named) if v is None]
        raise DataError(f"no video named after camera(s) {', '.join(missing)}")
    return paths


def _largest_person(detector, frame: np.ndarray):
    """The largest person ``detector.detect_all`` finds (the recording's subject, in
    front of anyone passing by); NoPersonError when nobody is found."""
    return detector.detect_all(frame).persons[0]


def _detect_views(detector, cameras, videos, stride, max_frames, first_frame, progress, should_cancel) -> np.ndarray:
    """(F, V, 12, 3) the detector's landmarks at the evaluation joints: pixels + visibility,
    zeros where nobody was found."""
    per_view: list[list[np.ndarray]] = []
    for v, (cam, video) in enumerate(zip(cameras, videos)):
        rows = []
        for index, frame in read_frames(video, stride, max_frames, first_frame):
            check_cancel(should_cancel)
            check_frame_size(cam, frame.shape[1], frame.shape[0])
            try:
                landmarks = _largest_person(detector, frame).landmarks
                rows.append(to_eval12(np.asarray(landmarks)[:, [0, 1, 3]]))
            except NoPersonError:
                log.info("%s frame %d: no person", video, index)
                rows.append(np.zeros((12, 3)))
        per_view.append(rows)
        progress(ProgressEvent(0.2 * (v + 1) / len(cameras), f"detected {cam.name}"))
    frames = min(len(rows) for rows in per_view)
    return np.stack([np.stack(rows[:frames]) for rows in per_view], axis=1)


def evaluate_recording(
    calibration: str | Path,
    videos: Sequence[str | Path],
    methods: Sequence[Method],
    detector,
    stride: int = 1,
    max_frames: int | None = None,
    max_error_px: float = MAX_REPROJECTION_PX,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    on_view: ViewFn | None = None,
    first_frame: int = 0,
) -> RecordingResult:
    """Evaluate ``methods`` on every ``stride``-th frame (at most ``max_frames``, from
    ``first_frame`` on) of the synchronised ``videos`` filmed by the cameras of a Qualisys
    ``calibration``.

    on_view: called for every evaluated view and method with the method's names, its
    hypotheses (K, 12, 3), the reference in that camera (12, 3), camera-oriented metres,
    and the hypotheses' scores (K,) or None, for per-joint or per-view analyses
    (``tools/real_footage_joints.py``).

    detector: a PoseDetector. Raises DataError (calibration, video/camera match),
    ImageError (a video that cannot be decoded), ShapeError (frames of the wrong size),
    JobCancelled.
    """
    cameras = read_qca(calibration)
    videos = match_videos(cameras, videos)
    seen = _detect_views(detector, cameras, videos, stride, max_frames, first_frame, progress, should_cancel)
    reference = triangulate_frames(cameras, seen, max_error_px)
    if reference.num_kept == 0:
        raise DataError(
            f"{calibration}: no frame could be triangulated within {max_error_px:.0f} px "
            f"({reference.dropped_error} over the error, {reference.dropped_views} seen in < 2 views)"
        )
    single: dict[str, list[tuple[float, float]]] = {}
    multi: dict[tuple[str, ...], list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]] = {}
    readers = [read_frames(video, stride, max_frames, first_frame) for video in videos]
    for f, frames in enumerate(zip(*readers)):
        if f >= len(reference.kept):
            break
        views = [v for v in range(len(cameras)) if reference.kept[f] and seen[f, v, :, 2].max() > 0]
        if not views:
            continue
        check_cancel(should_cancel)
        images = [frames[v][1] for v in views]
        detections = [_largest_person(detector, image) for image in images]
        refs = [reference_in_camera(reference.points[f], cameras[v].R) for v in views]
        for method in methods:
            for pred, ref_cam in zip(method.predict(images, detections, [cameras[v] for v in views]), refs):
                errors = view_errors(pred.hypotheses, ref_cam)
                if on_view is not None:
                    on_view(method.names, pred.hypotheses, ref_cam, pred.scores)
                if len(method.names) == 1:
                    single.setdefault(method.names[0], []).append((errors[0][0], errors[1][0]))
                else:
                    multi.setdefault(method.names, []).append((*errors, pred.scores))
        progress(ProgressEvent(0.2 + 0.8 * (f + 1) / len(reference.kept), f"evaluated frame {f + 1}"))
    results: dict[str, MethodResult] = {}
    for method in methods:
        if len(method.names) == 1:
            results[method.names[0]] = summarise_single(single.get(method.names[0], []))
        else:
            rows = multi.get(method.names, [])
            if not rows:
                raise DataError(f"{calibration}: no view was evaluated")
            scored = [r[2] for r in rows if r[2] is not None]
            scores = np.stack(scored) if len(scored) == len(rows) else None
            results.update(summarise_hypotheses(
                np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]), scores))
    return RecordingResult(results, len(seen), reference, side_swaps(cameras, seen, reference, EVAL12_FLIP))
