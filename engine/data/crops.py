"""Square person crops: the image-to-crop map, its inverse, and cutting the crop out.

Conventions (shared with ``engine.body.projection``):

* Pixel coordinates put pixel (i, j)'s centre at x = j, y = i (OpenCV's convention).
* A crop is a square region of the image, ``size`` px on a side, centred on ``center``,
  resampled to ``out_size`` x ``out_size`` px. Its content is turned ``rotation``
  degrees counter-clockwise (as seen on screen) about the centre, then mirrored left to
  right when ``flip`` is set.
* Normalised crop coordinates run from -1 at the crop's left/top edge to +1 at its
  right/bottom edge; without rotation and flip they are exactly
  ``projection.image_to_crop``. Crop pixel p (integer at pixel centres) sits at
  normalised ``(p + 0.5) * 2 / out_size - 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from engine.data.joint_sets import COCO17_FLIP
from engine.errors import ShapeError

DEFAULT_BOX_SCALE = 1.2


def square_crop(box: np.ndarray, scale: float = DEFAULT_BOX_SCALE) -> tuple[np.ndarray, float]:
    """The square around a box: same centre, side = longer box side * ``scale``.

    Args:
        box: (4,) x0, y0, x1, y1 pixels.

    Returns:
        center: (2,) float64 pixels. size: side in pixels.
    """
    x0, y0, x1, y1 = (float(v) for v in np.asarray(box).reshape(4))
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2]), max(x1 - x0, y1 - y0) * scale


def rotation_2d(degrees: float) -> np.ndarray:
    """(2, 2) map turning pixel offsets ``degrees`` counter-clockwise on screen (y down)."""
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s], [-s, c]])


@dataclass(frozen=True, eq=False)
class CropTransform:
    """A square crop of an image (see the module docstring for the conventions).

    center: (2,) pixels. size: crop side in the image, pixels (> 0).
    out_size: crop side in the output, pixels. rotation: degrees. flip: mirror x.
    """

    center: np.ndarray
    size: float
    out_size: int
    rotation: float = 0.0
    flip: bool = False

    def __post_init__(self) -> None:
        c = np.array(self.center, dtype=np.float64).reshape(-1)
        if c.shape != (2,) or not np.isfinite(c).all():
            raise ShapeError(f"crop center: expected 2 finite numbers, got {self.center!r}")
        if not (math.isfinite(self.size) and self.size > 0):
            raise ShapeError(f"crop size: expected a positive number of pixels, got {self.size!r}")
        if int(self.out_size) != self.out_size or self.out_size < 1:
            raise ShapeError(f"crop out_size: expected a positive integer, got {self.out_size!r}")
        if not math.isfinite(self.rotation):
            raise ShapeError(f"crop rotation: expected a finite angle, got {self.rotation!r}")
        c.setflags(write=False)
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "size", float(self.size))
        object.__setattr__(self, "out_size", int(self.out_size))
        object.__setattr__(self, "rotation", float(self.rotation))
        object.__setattr__(self, "flip", bool(self.flip))

    @classmethod
    def for_box(cls, box: np.ndarray, out_size: int, scale: float = DEFAULT_BOX_SCALE) -> "CropTransform":
        """The upright crop of ``square_crop(box, scale)``."""
        center, size = square_crop(box, scale)
        return cls(center, size, out_size)

    def orientation(self) -> np.ndarray:
        """(2, 2) rotation, then the mirror: image offsets to crop offsets, unscaled."""
        m = rotation_2d(self.rotation)
        if self.flip:
            m = np.diag([-1.0, 1.0]) @ m
        return m

    def affine(self) -> np.ndarray:
        """(2, 3) float64 map from image pixels to crop pixels, for ``cv2.warpAffine``."""
        a = self.orientation() * (self.out_size / self.size)
        t = (self.out_size - 1) / 2 - a @ self.center
        return np.concatenate([a, t[:, None]], axis=1)

    def image_to_crop_px(self, uv: np.ndarray) -> np.ndarray:
        """(..., 2) image pixels to (..., 2) crop pixels."""
        m = self.affine()
        return np.asarray(uv, np.float64) @ m[:, :2].T + m[:, 2]

    def crop_px_to_image(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2) crop pixels to (..., 2) image pixels; inverse of image_to_crop_px."""
        m = self.affine()
        return (np.asarray(xy, np.float64) - m[:, 2]) @ np.linalg.inv(m[:, :2]).T

    def image_to_crop_norm(self, uv: np.ndarray) -> np.ndarray:
        """(..., 2) image pixels to (..., 2) normalised crop coordinates."""
        return (np.asarray(uv, np.float64) - self.center) @ self.orientation().T / (self.size / 2)

    def crop_norm_to_image(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2) normalised crop coordinates to (..., 2) image pixels."""
        # The orientation matrix is orthogonal: its inverse is its transpose.
        return np.asarray(xy, np.float64) * (self.size / 2) @ self.orientation() + self.center


def transform_keypoints(
    keypoints: np.ndarray, t: CropTransform, flip_perm: tuple[int, ...] = COCO17_FLIP
) -> np.ndarray:
    """Image keypoints into a crop, relabelled left/right when the crop is mirrored.

    Args:
        keypoints: (J, 3) x, y pixels + confidence.
        flip_perm: the joint set's mirror permutation (J,).

    Returns:
        (J, 3) float32: normalised crop coordinates + confidence, the confidence zeroed
        for points outside the crop.
    """
    kp = np.asarray(keypoints, np.float64)
    out = np.empty_like(kp)
    out[:, :2] = t.image_to_crop_norm(kp[:, :2])
    out[:, 2] = kp[:, 2]
    if t.flip:
        out = out[list(flip_perm)]
    outside = (np.abs(out[:, :2]) > 1).any(axis=1)
    out[outside, 2] = 0
    return out.astype(np.float32)


def crop_image(image: np.ndarray, t: CropTransform) -> np.ndarray:
    """Cut a crop out of an image; outside the image the crop is black.

    Args:
        image: (H, W, 3) uint8.

    Returns:
        (out_size, out_size, 3) uint8. Bilinear resampling; a crop shrunk by 2x or more is
        first area-averaged from its image region, so fine texture does not alias.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ShapeError(f"image: expected (H, W, 3) uint8, got {image.shape} {image.dtype}")
    n = t.out_size
    m = t.affine()
    factor = t.size / n
    if factor >= 2:
        region = _region(image, t)
        if region is None:
            return np.zeros((n, n, 3), np.uint8)
        (x0, y0), patch = region
        h, w = patch.shape[:2]
        sw, sh = max(1, round(w / factor)), max(1, round(h / factor))
        small = cv2.resize(patch, (sw, sh), interpolation=cv2.INTER_AREA)
        # Small pixel p is region pixel (p + 0.5) * k - 0.5, i.e. image pixel that + (x0, y0).
        k = np.array([w / sw, h / sh])
        a = m[:, :2] * k
        b = m[:, :2] @ (0.5 * k - 0.5 + np.array([x0, y0])) + m[:, 2]
        m, image = np.concatenate([a, b[:, None]], axis=1), small
    return cv2.warpAffine(
        image, m, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
    )


def _region(image: np.ndarray, t: CropTransform) -> tuple[tuple[int, int], np.ndarray] | None:
    """The image pixels the crop covers (with a pixel of margin), or None if none."""
    n = t.out_size
    corners = t.crop_px_to_image(np.array([[-0.5, -0.5], [n - 0.5, -0.5], [-0.5, n - 0.5], [n - 0.5, n - 0.5]]))
    height, width = image.shape[:2]
    x0 = max(math.floor(corners[:, 0].min()) - 1, 0)
    y0 = max(math.floor(corners[:, 1].min()) - 1, 0)
    x1 = min(math.ceil(corners[:, 0].max()) + 2, width)
    y1 = min(math.ceil(corners[:, 1].max()) + 2, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0), image[y0:y1, x0:x1]
