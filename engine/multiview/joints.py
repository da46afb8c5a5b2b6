"""The 12 body joints the multi-view evaluation compares, and where each convention has them.

Shoulders, elbows, wrists, hips, knees and ankles, left then right (the person's own
sides), in COCO-17 order. Each convention's map lists, for evaluation joint i, the index
of the same joint in that convention:

* COCO-17 (the body model's keypoints, regressed from the mesh): joints 5..16 as they are.
* BlazePose-33 (the detector's landmarks and world landmarks): by name.
* SMPL-24 (the kinematic joints): ``l_shoulder``, ``l_elbow``, ``l_wrist``, ``l_hip``,
  ``l_knee``, ``l_ankle`` and their right twins. SMPL's hip joints are the thigh's
  centre of rotation, a few centimetres inside and below where a 2D keypoint detector
  puts the hip, so a body read at its SMPL joints pays that offset against a reference
  triangulated from a detector; read meshes at their COCO-17 keypoints when they have them.

Errors are taken after hip-midpoint alignment: the mean of the two hips is subtracted
from each body (both conventions place it at the pelvis centre).
"""

from __future__ import annotations

import numpy as np

from engine.errors import ShapeError

from engine.data.limb_joints import (  # noqa: F401 - the evaluation's joint maps, re-exported
    EVAL12_FLIP, EVAL12_FROM_BLAZEPOSE33, EVAL12_FROM_COCO17, EVAL12_FROM_SMPL24, EVAL12_NAMES, HIPS, _MAPS,
)


def to_eval12(points: np.ndarray) -> np.ndarray:
    """(..., J, C) points in COCO-17 (J=17), SMPL-24 (24) or BlazePose-33 (33) order
    -> (..., 12, C) the evaluation joints."""
    points = np.asarray(points)
    if points.ndim < 2 or points.shape[-2] not in _MAPS:
        raise ShapeError(
            f"joints: expected (..., 17 | 24 | 33, C) COCO, SMPL or BlazePose joints, got {points.shape}"
        )
    return points[..., list(_MAPS[points.shape[-2]]), :]


def hip_aligned(points: np.ndarray) -> np.ndarray:
    """(..., 12, 3) evaluation joints -> the same with the hip midpoint at the origin."""
    points = np.asarray(points, np.float64)
    if points.shape[-2:] != (12, 3):
        raise ShapeError(f"joints: expected (..., 12, 3) evaluation joints, got {points.shape}")
    return points - points[..., list(HIPS), :].mean(axis=-2, keepdims=True)
