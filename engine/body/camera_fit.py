"""The weak-perspective camera (s, tx, ty) that places a body's 3D keypoints on 2D ones.

Placement is linear in (s, s tx, s ty), so the fit is one weighted least-squares solve.
Used for stored labels without a camera (``engine.projects.labels``), when a label
is scored for cleaning (``engine.training.cleaning``), and batched in torch
(``fit_weak_perspective``) by the fit and the orientation step.
"""

from __future__ import annotations

import numpy as np
import torch

MIN_FIT_KEYPOINTS = 3
"""A camera is fitted only to a record with at least this many confident keypoints."""


def fit_camera(keypoints3d: np.ndarray, keypoints_crop: np.ndarray) -> np.ndarray | None:
    """The weak-perspective camera placing 3D keypoints on their 2D positions.

    keypoints3d: (17, 3) metres, camera-oriented (body model output, no translation).
    keypoints_crop: (17, 3) normalised crop coordinates + confidence (the weight).
    Returns (3,) float32 (s, tx, ty) minimising sum c ||s (X_xy + t) - x||^2, or None when
    fewer than MIN_FIT_KEYPOINTS points are confident or the fit is degenerate (s <= 0).
    """
    c = keypoints_crop[:, 2].astype(np.float64)
    use = c > 0
    if use.sum() < MIN_FIT_KEYPOINTS:
        return None
    X = keypoints3d[use, :2].astype(np.float64)
    x = keypoints_crop[use, :2].astype(np.float64)
    w = np.sqrt(c[use])
    n = len(X)
    # Unknowns (s, a, b) with a = s tx, b = s ty: x = s X + a, y = s Y + b.
    A = np.zeros((2 * n, 3))
    A[:n, 0], A[:n, 1] = X[:, 0], 1.0
    A[n:, 0], A[n:, 2] = X[:, 1], 1.0
    rhs = np.concatenate([x[:, 0], x[:, 1]])
    ww = np.concatenate([w, w])
    sol, *_ = np.linalg.lstsq(A * ww[:, None], rhs * ww, rcond=None)
    s, a, b = sol
    if not (np.isfinite(sol).all() and s > 1e-6):
        return None
    return np.array([s, a / s, b / s], np.float32)


MIN_SCALE = 0.05
"""The smallest camera scale a closed-form fit may return: a body 40 crop-widths tall."""

TORSO = (5, 6, 11, 12)
"""COCO-17 left/right shoulder, left/right hip."""


def fit_weak_perspective(points3d: torch.Tensor, keypoints: torch.Tensor, joints: tuple[int, ...] = TORSO) -> torch.Tensor:
    """Closed-form camera per person.

    points3d: (B, 17, 3) the posed body's keypoints, metres, camera-oriented.
    keypoints: (B, 17, 3) detected normalised crop coordinates + confidence.
    joints: the keypoints to fit; a person with fewer than two of them seen is fitted on
        all of its seen keypoints.
    Returns (B, 3) (s, tx, ty) minimising sum c ||s (X_xy + t) - x||^2, s >= MIN_SCALE.
    """
    w = torch.zeros_like(keypoints[..., 2])
    w[:, list(joints)] = keypoints[:, list(joints), 2]
    few = (w > 0).sum(-1) < 2
    w[few] = keypoints[few, :, 2]
    W = w.sum(-1, keepdim=True).clamp(min=1e-8)
    X, x = points3d[..., :2], keypoints[..., :2]
    mX = (w[..., None] * X).sum(1) / W
    mx = (w[..., None] * x).sum(1) / W
    dX, dx = X - mX[:, None], x - mx[:, None]
    num = (w[..., None] * dX * dx).sum((1, 2))
    den = (w[..., None] * dX * dX).sum((1, 2)).clamp(min=1e-8)
    s = (num / den).clamp(min=MIN_SCALE)
    t = mx / s[:, None] - mX
    return torch.cat([s[:, None], t], dim=-1)
