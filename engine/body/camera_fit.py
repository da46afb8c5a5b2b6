"""The weak-perspective camera (s, tx, ty) that places a body's 3D keypoints on 2D ones.

Placement is linear in (s, s tx, s ty), so the fit is one weighted least-squares solve.
Used for stored labels without a camera (``engine.projects.labels``) and when a label
is scored for cleaning (``engine.training.cleaning``).
"""

from __future__ import annotations

import numpy as np

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
