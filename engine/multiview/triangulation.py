"""A 3D reference from 2D keypoints seen by several calibrated cameras.

Each joint is triangulated by a confidence-weighted direct linear transform (DLT) on
undistorted pixels: every view with confidence w > 0 adds the two rows
``w * (x P3 - P1)`` and ``w * (y P3 - P2)`` (each scaled to unit length first, so a
view's weight does not depend on its pixel scale) and the point is the right singular
vector of the smallest singular value. A frame is kept only when every joint was seen
in at least two views and the mean reprojection error over the views that saw a joint
is within a threshold; the rest are dropped and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import ShapeError
from engine.multiview.calibration import Camera

log = logging.getLogger(__name__)

MAX_REPROJECTION_PX = 30.0
"""Frames whose mean reprojection error exceeds this (pixels) are dropped."""


def triangulate_dlt(
    pixels: np.ndarray, confidence: np.ndarray, projections: np.ndarray
) -> np.ndarray:
    """Confidence-weighted DLT of J points seen in V views.

    pixels: (V, J, 2) undistorted pixels. confidence: (V, J) weights, 0 = not seen.
    projections: (V, 3, 4) ``K [R | t]`` of each view.
    Returns (J, 3) world metres; NaN for a joint with fewer than two seeing views.
    """
    pixels = np.asarray(pixels, np.float64)
    confidence = np.asarray(confidence, np.float64)
    projections = np.asarray(projections, np.float64)
    V, J = confidence.shape if confidence.ndim == 2 else (-1, -1)
    if pixels.shape != (V, J, 2) or projections.shape != (V, 3, 4):
        raise ShapeError(
            f"triangulate: pixels {pixels.shape}, confidence {confidence.shape}, projections "
            f"{projections.shape} must be (V, J, 2), (V, J), (V, 3, 4)"
        )
    out = np.full((J, 3), np.nan)
    for j in range(J):
        seen = np.flatnonzero((confidence[:, j] > 0) & np.isfinite(pixels[:, j]).all(axis=1))
        if len(seen) < 2:
            continue
        rows = []
        for v in seen:
            P, (x, y), w = projections[v], pixels[v, j], confidence[v, j]
            for row in (x * P[2] - P[0], y * P[2] - P[1]):
                rows.append(w * row / np.linalg.norm(row))
        _, _, vh = np.linalg.svd(np.asarray(rows))
        X = vh[-1]
        out[j] = X[:3] / X[3]
    return out


def reprojection_errors(
    points: np.ndarray, cameras: Sequence[Camera], keypoints: np.ndarray
) -> np.ndarray:
    """Pixel distance between each view's keypoints and the projected 3D points.

    points: (J, 3) world metres. keypoints: (V, J, 3) distorted pixels + confidence.
    Returns (V, J) pixels; NaN where the view did not see the joint (confidence 0) or
    the point is unknown.
    """
    keypoints = np.asarray(keypoints, np.float64)
    errors = np.full(keypoints.shape[:2], np.nan)
    known = np.isfinite(points).all(axis=1)
    for v, cam in enumerate(cameras):
        if not known.any():
            break
        px = cam.project(points[known])
        errors[v, known] = np.linalg.norm(px - keypoints[v, known, :2], axis=1)
    errors[keypoints[..., 2] <= 0] = np.nan
    return errors


@dataclass(frozen=True, eq=False)
class Reference:
    """A triangulated 3D reference over F frames.

    points: (F, J, 3) world metres (NaN rows in dropped frames).
    error_px: (F,) mean reprojection error of each frame (NaN when not triangulated).
    kept: (F,) bool, frames usable as a reference.
    dropped_error: frames dropped for a mean reprojection error over the threshold.
    dropped_views: frames dropped because a joint was seen in fewer than two views.
    max_error_px: the threshold used, pixels.
    """

    points: np.ndarray
    error_px: np.ndarray
    kept: np.ndarray
    dropped_error: int
    dropped_views: int
    max_error_px: float

    @property
    def num_kept(self) -> int:
        return int(self.kept.sum())

    @property
    def kept_error_px(self) -> float:
        """Mean reprojection error of the kept frames, pixels."""
        return float(self.error_px[self.kept].mean()) if self.kept.any() else float("nan")


def triangulate_frames(
    cameras: Sequence[Camera],
    keypoints: np.ndarray,
    max_error_px: float = MAX_REPROJECTION_PX,
) -> Reference:
    """Triangulate every frame and keep those with a small reprojection error.

    keypoints: (F, V, J, 3) distorted pixels + confidence (0 = not seen, e.g. no person
        detected in that view), views in the order of ``cameras``.
    """
    keypoints = np.asarray(keypoints, np.float64)
    if keypoints.ndim != 4 or keypoints.shape[1] != len(cameras) or keypoints.shape[3] != 3:
        raise ShapeError(
            f"triangulate: keypoints {keypoints.shape} must be (F, {len(cameras)}, J, 3)"
        )
    F, V, J, _ = keypoints.shape
    projections = np.stack([c.projection_matrix() for c in cameras])
    points = np.full((F, J, 3), np.nan)
    error = np.full(F, np.nan)
    kept = np.zeros(F, bool)
    dropped_error = dropped_views = 0
    for f in range(F):
        undistorted = np.stack([c.undistort(keypoints[f, v, :, :2]) for v, c in enumerate(cameras)])
        frame = triangulate_dlt(undistorted, keypoints[f, :, :, 2], projections)
        if not np.isfinite(frame).all():
            dropped_views += 1
            continue
        error[f] = float(np.nanmean(reprojection_errors(frame, cameras, keypoints[f])))
        if error[f] > max_error_px:
            dropped_error += 1
            continue
        points[f], kept[f] = frame, True
    log.debug(
        "triangulated %d of %d frames (%d dropped for reprojection error > %.0f px, "
        "%d for joints seen in fewer than two views)",
        kept.sum(), F, dropped_error, max_error_px, dropped_views,
    )
    return Reference(points, error, kept, dropped_error, dropped_views, max_error_px)


def side_swaps(
    cameras: Sequence[Camera], keypoints: np.ndarray, reference: Reference, flip: Sequence[int]
) -> dict[str, int]:
    """Why frames were dropped: how many pass once one camera's left and right are swapped.

    A detector that mistakes a person's left for their right in one view (common in side
    views) makes that frame's views disagree. For each frame dropped for its error, try
    each view with its joints mirrored (``flip``: joint i becomes joint flip[i]) and count
    the camera whose swap brings the frame within the threshold, the best one if several.

    keypoints: (F, V, J, 3) as given to :func:`triangulate_frames`.
    Returns {camera name: frames}, cameras with none left out.
    """
    keypoints = np.asarray(keypoints, np.float64)
    counts: dict[str, int] = {}
    for f in np.flatnonzero(~reference.kept & np.isfinite(reference.error_px)):
        best, best_error = None, reference.max_error_px
        for v, cam in enumerate(cameras):
            trial = keypoints[f : f + 1].copy()
            trial[0, v] = trial[0, v, list(flip)]
            error = triangulate_frames(cameras, trial, np.inf).error_px[0]
            if error <= best_error:
                best, best_error = cam.name, error
        if best is not None:
            counts[best] = counts.get(best, 0) + 1
    return counts
