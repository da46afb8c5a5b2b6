"""Cameras: weak-perspective in a square crop, full perspective in the image.

Conventions used across the project:

* The camera frame is OpenCV's: x right, y down, z forward, metres. A person standing
  upright and facing the camera has a global orientation of 180 degrees about x
  (the body is Y up, facing +Z at rest), as in SPIN-style SMPL annotations.
* A crop is a square box in the full image given by its centre (cx, cy) and side b, in
  pixels. Normalised crop coordinates run from -1 (left/top edge) to +1 (right/bottom).
* The weak-perspective camera (s, tx, ty) maps a body point X (camera-oriented, metres,
  no translation applied) to normalised crop coordinates ``s * (X_xy + (tx, ty))``.
* Its full-perspective equivalent for a focal length f (pixels) and principal point
  (px, py) puts the body at translation T = (tx', ty', tz) with tz = 2 f / (b s).
"""

from __future__ import annotations

import torch

from engine.errors import ShapeError


def _check_last(name: str, t: torch.Tensor, size: int) -> None:
    if t.shape[-1] != size:
        raise ShapeError(f"{name}: expected last dimension {size}, got shape {tuple(t.shape)}")


def project_weak_perspective(points: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
    """Project body points with a weak-perspective camera.

    Args:
        points: (B, N, 3) metres, camera-oriented, without translation.
        cam: (B, 3) weak-perspective (s, tx, ty).

    Returns:
        xy: (B, N, 2) normalised crop coordinates in [-1, 1] for points inside the crop.
    """
    _check_last("points", points, 3)
    _check_last("cam", cam, 3)
    s = cam[:, None, :1]
    t = cam[:, None, 1:]
    return s * (points[..., :2] + t)


def project_perspective(
    points: torch.Tensor,
    translation: torch.Tensor,
    focal: torch.Tensor | float,
    principal: torch.Tensor,
) -> torch.Tensor:
    """Pinhole projection to image pixels.

    Args:
        points: (B, N, 3) metres, camera-oriented, without translation.
        translation: (B, 3) metres, added to every point.
        focal: scalar or (B,) focal length in pixels.
        principal: (B, 2) principal point in pixels.

    Returns:
        uv: (B, N, 2) pixels. Points behind the camera get a depth clamped to 1 mm.
    """
    _check_last("points", points, 3)
    _check_last("translation", translation, 3)
    p = points + translation[:, None, :]
    z = p[..., 2:].clamp(min=1e-3)
    f = torch.as_tensor(focal, dtype=points.dtype, device=points.device).reshape(-1, 1, 1)
    return f * p[..., :2] / z + principal[:, None, :]


def crop_to_image(xy: torch.Tensor, crop_center: torch.Tensor, crop_size: torch.Tensor) -> torch.Tensor:
    """Normalised crop coordinates to full-image pixels.

    Args:
        xy: (B, N, 2) normalised crop coordinates.
        crop_center: (B, 2) pixels.
        crop_size: (B,) side of the square crop in pixels.

    Returns:
        uv: (B, N, 2) pixels.
    """
    return crop_center[:, None, :] + xy * (crop_size[:, None, None] / 2)


def image_to_crop(uv: torch.Tensor, crop_center: torch.Tensor, crop_size: torch.Tensor) -> torch.Tensor:
    """Full-image pixels to normalised crop coordinates; inverse of crop_to_image."""
    return (uv - crop_center[:, None, :]) / (crop_size[:, None, None] / 2)


def translation_from_weak_perspective(
    cam: torch.Tensor,
    focal: torch.Tensor | float,
    principal: torch.Tensor,
    crop_center: torch.Tensor,
    crop_size: torch.Tensor,
) -> torch.Tensor:
    """Full-perspective translation that matches a weak-perspective crop camera.

    Args:
        cam: (B, 3) weak-perspective (s, tx, ty).
        focal: scalar or (B,) focal length in pixels of the full image.
        principal: (B, 2) principal point in pixels.
        crop_center: (B, 2) pixels; crop_size: (B,) pixels.

    Returns:
        translation: (B, 3) metres.
    """
    f = torch.as_tensor(focal, dtype=cam.dtype, device=cam.device).reshape(-1)
    s = cam[:, 0].clamp(min=1e-6)
    tz = 2.0 * f / (crop_size * s)
    offset = (crop_center - principal) * (tz / f)[:, None]
    return torch.cat([cam[:, 1:] + offset, tz[:, None]], dim=1)


def weak_perspective_from_translation(
    translation: torch.Tensor,
    focal: torch.Tensor | float,
    principal: torch.Tensor,
    crop_center: torch.Tensor,
    crop_size: torch.Tensor,
) -> torch.Tensor:
    """Weak-perspective crop camera approximating a perspective one; inverse of the above.

    Args:
        translation: (B, 3) metres. focal: scalar or (B,) pixels.
        principal, crop_center: (B, 2) pixels. crop_size: (B,) pixels.

    Returns:
        cam: (B, 3) weak-perspective (s, tx, ty).
    """
    f = torch.as_tensor(focal, dtype=translation.dtype, device=translation.device).reshape(-1)
    tz = translation[:, 2].clamp(min=1e-3)
    s = 2.0 * f / (crop_size * tz)
    offset = (crop_center - principal) * (tz / f)[:, None]
    return torch.cat([s[:, None], translation[:, :2] - offset], dim=1)
