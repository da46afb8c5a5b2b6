"""Data terms of the fit: robust 2D reprojection and 3D bone directions.

Units: 2D residuals are measured in pixels of a 224-pixel crop (``CROP_PIXELS``), so the
Geman–McClure scale (SPIN's σ = 100 px) and the term weights mean the same whatever the
photo's resolution. Keypoints come in normalised crop coordinates ([-1, 1], see
``engine.body.projection``).
"""

from __future__ import annotations

import torch

from engine.body.bones import bone_directions

CROP_PIXELS = 224.0
"""Reprojection residuals are expressed in pixels of a crop this wide."""

BONE_SCALE = 100.0
"""A squared unit-direction difference (about the squared angle in radians) is worth this
many squared crop pixels: a 0.3 rad bone error costs like a 3-pixel reprojection error."""


def gmof(residual: torch.Tensor, sigma: float) -> torch.Tensor:
    """Geman–McClure robust penalty, elementwise: sigma^2 r^2 / (sigma^2 + r^2)."""
    sq = residual.pow(2)
    return sigma**2 * sq / (sigma**2 + sq)


def project_crop(points: torch.Tensor, cam: torch.Tensor, inv_focal: torch.Tensor) -> torch.Tensor:
    """Perspective projection in a person's crop, with the weak-perspective camera's parameters.

    points: (B, N, 3) metres, crop-camera oriented (+z away), no translation. cam: (B, 3)
    (s, tx, ty): the body sits at depth focal / s, shifted by (tx, ty) metres.
    inv_focal: (B,) 1 / focal length in normalised crop units (0: weak perspective).
    Returns (B, N, 2) normalised crop coordinates: s (X_xy + t) / (1 + s Z / focal), so a
    point nearer the camera than the body's centre lands further out, as in a photo.
    """
    s = cam[:, None, :1]
    depth = 1.0 + s[..., 0] * points[..., 2] * inv_focal[:, None]
    # A point at or behind the camera has no image; keep the division finite for it.
    return s * (points[..., :2] + cam[:, None, 1:]) / depth.clamp(min=0.1)[..., None]


def reprojection_loss(projected: torch.Tensor, keypoints: torch.Tensor, sigma: float,
                      joints: list[int] | None = None) -> torch.Tensor:
    """Confidence-weighted robust reprojection error per person.

    projected: (B, 17, 2) normalised crop coordinates of the body's keypoints.
    keypoints: (B, 17, 3) detected normalised crop coordinates + confidence in [0, 1].
    sigma: Geman–McClure scale in crop pixels. joints: the keypoints to use (all when None).
    Returns (B,) sum over keypoints of confidence^2 * gmof(residual in crop pixels).
    """
    residual = (projected - keypoints[..., :2]) * (CROP_PIXELS / 2)
    per_point = gmof(residual, sigma).sum(-1) * keypoints[..., 2].pow(2)
    if joints is not None:
        per_point = per_point[:, joints]
    return per_point.sum(-1)


def bone_direction_loss(model_points: torch.Tensor, target_dirs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(B,) weighted squared differences of unit bone directions, times ``BONE_SCALE``.

    model_points: (B, 17, 3) the body's COCO keypoints, metres, camera-oriented.
    target_dirs: (B, len(BONES), 3) unit directions from the world landmarks
        (``engine.body.bones``).
    weights: (B, len(BONES)); 0 where a person has no world landmarks.
    """
    diff = bone_directions(model_points) - target_dirs
    return BONE_SCALE * (diff.pow(2).sum(-1) * weights).sum(-1)
