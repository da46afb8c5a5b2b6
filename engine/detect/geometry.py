"""Crops between full images and the models' square inputs.

Coordinates here are continuous pixel coordinates: the pixel with index (i, j) covers
[j, j+1) x [i, i+1), so its centre is (j + 0.5, i + 0.5). OpenCV's warps address pixel
centres by index, so matrices are converted with :func:`_index_space` at the call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Downscaling by more than this through a bilinear warp skips pixels and aliases; above it
# the region is first shrunk with area averaging.
_MAX_WARP_DOWNSCALE = 2.0


@dataclass(frozen=True)
class RotatedSquare:
    """A square region of an image, possibly rotated.

    centre: (x, y) in image pixels.
    size: side length in image pixels.
    rotation: radians; the crop's "up" is the image's up turned by this angle clockwise
        (image y points down), as MediaPipe's NormalizedRect.rotation.
    """

    centre: tuple[float, float]
    size: float
    rotation: float

    def crop_to_image(self, out_size: int) -> np.ndarray:
        """(2, 3) affine: crop pixels of an ``out_size`` square -> image pixels."""
        c, s = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / out_size
        lin = np.array([[c, -s], [s, c]], dtype=np.float64) * k
        t = np.asarray(self.centre, dtype=np.float64) - lin @ np.array([out_size / 2, out_size / 2])
        return np.concatenate([lin, t[:, None]], axis=1)

    def corners(self) -> np.ndarray:
        """(4, 2) image-pixel corners of the square."""
        m = self.crop_to_image(1)
        unit = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)
        return unit @ m[:, :2].T + m[:, 2]


def apply_affine(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to (N, 2) points."""
    return points @ m[:, :2].T + m[:, 2]


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a (2, 3) affine."""
    lin = np.linalg.inv(m[:, :2])
    return np.concatenate([lin, (-lin @ m[:, 2])[:, None]], axis=1)


def _index_space(m: np.ndarray) -> np.ndarray:
    """Turn an affine between continuous coordinates into one between pixel indices."""
    lin, t = m[:, :2], m[:, 2]
    return np.concatenate([lin, (t + lin @ np.array([0.5, 0.5]) - 0.5)[:, None]], axis=1)


def shrink(image: np.ndarray, factor: int) -> np.ndarray:
    """Area-average ``factor`` x ``factor`` blocks of an image.

    The last rows and columns that do not fill a block are dropped, so continuous
    coordinates map exactly: x_small = x / factor. (OpenCV's area resize is several
    times faster for whole factors than for fractional ones, and fastest for 2.)

    Args:
        image: (H, W, ...) array with H, W >= factor.

    Returns:
        (H // factor, W // factor, ...) array of the same dtype.
    """
    if factor <= 1:
        return image
    h, w = image.shape[0] // factor, image.shape[1] // factor
    out = image[: h * factor, : w * factor]
    # OpenCV vectorises the area resize for halving only (about 7x faster per pixel than
    # other whole factors), so the factor's power of two goes in halvings first; each
    # rounds to the dtype, which moves a uint8 average by at most one level.
    while factor % 2 == 0:
        out = cv2.resize(out, (out.shape[1] // 2, out.shape[0] // 2), interpolation=cv2.INTER_AREA)
        factor //= 2
    if factor > 1:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)
    return out


def _shrink_region(
    image: np.ndarray, src_from_dst: np.ndarray, dst_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Area-average the part of ``image`` a warp will read when it would downscale a lot.

    Args:
        src_from_dst: (2, 3) affine, output pixels -> image pixels.
        dst_size: (width, height) of the warp output.

    Returns:
        (source, src_from_dst) to warp from instead: either the inputs unchanged or a
        shrunk sub-image with the matrix adjusted to it.
    """
    factor = int(math.sqrt(abs(np.linalg.det(src_from_dst[:, :2]))) // 1)
    if factor < _MAX_WARP_DOWNSCALE:
        return image, src_from_dst
    w, h = dst_size
    corners = apply_affine(src_from_dst, np.array([[0, 0], [w, 0], [w, h], [0, h]], float))
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int) - factor, 0)
    x1 = min(int(np.ceil(corners[:, 0].max())) + factor, image.shape[1])
    y1 = min(int(np.ceil(corners[:, 1].max())) + factor, image.shape[0])
    if x1 - x0 < 2 * factor or y1 - y0 < 2 * factor:
        return image, src_from_dst
    small = shrink(image[y0:y1, x0:x1], factor)
    composed = src_from_dst / factor
    composed[:, 2] -= np.array([x0, y0]) / factor
    return small, composed


def crop_square(image: np.ndarray, square: RotatedSquare, out_size: int) -> np.ndarray:
    """Sample a rotated square of an image into an ``out_size`` square.

    Args:
        image: (H, W, C) uint8.

    Returns:
        crop: (out_size, out_size, C) uint8; outside the image the edge pixels repeat,
            as MediaPipe's crops do for the landmark model.
    """
    source, m = _shrink_region(image, square.crop_to_image(out_size), (out_size, out_size))
    return cv2.warpAffine(
        source,
        _index_space(m),
        (out_size, out_size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def paste_square(
    values: np.ndarray, square: RotatedSquare, image_size: tuple[int, int]
) -> np.ndarray:
    """Map a map over a rotated square back onto the full image.

    Args:
        values: (S, S) float32, a map over the square's crop.
        image_size: (height, width) of the full image.

    Returns:
        (height, width) float32; zero outside the square.
    """
    h, w = image_size
    out = np.zeros((h, w), dtype=np.float32)
    corners = square.corners()
    x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int), 0, [w, h])
    x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int), 0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return out
    rw, rh = int(x1 - x0), int(y1 - y0)
    # Where one map pixel spans many image pixels, warp onto a coarser grid and let a
    # bilinear resize fill in; a full-resolution warp of a 12 MP photo costs 4x more.
    step = max(1, int(square.size / values.shape[0] / _MAX_WARP_DOWNSCALE))
    gw, gh = -(-rw // step), -(-rh // step)
    region_from_grid = np.array([[rw / gw, 0.0, x0], [0.0, rh / gh, y0]])
    crop_from_image = invert_affine(square.crop_to_image(values.shape[0]))
    crop_from_grid = crop_from_image[:, :2] @ region_from_grid
    crop_from_grid[:, 2] += crop_from_image[:, 2]
    # The last OpenCV call writes straight into the region of the output (a view).
    region = out[y0:y1, x0:x1]
    grid = cv2.warpAffine(
        np.ascontiguousarray(values, dtype=np.float32),
        _index_space(crop_from_grid),
        (gw, gh),
        dst=None if step > 1 else region,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )
    if step > 1:
        cv2.resize(grid, (rw, rh), dst=region, interpolation=cv2.INTER_LINEAR)
    return out


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fit an image into a black square, keeping its aspect ratio, centred.

    Args:
        image: (H, W, C) uint8.

    Returns:
        square: (size, size, C) uint8.
        image_from_square: (2, 3) affine, square pixels -> image pixels.
    """
    factor = int(max(image.shape[:2]) / size)
    small = shrink(image, factor)
    h, w = small.shape[:2]
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(small, (new_w, new_h), interpolation=interp)
    ox, oy = (size - new_w) // 2, (size - new_h) // 2
    square = np.zeros((size, size) + image.shape[2:], dtype=image.dtype)
    square[oy : oy + new_h, ox : ox + new_w] = resized
    fx, fy = w * max(factor, 1) / new_w, h * max(factor, 1) / new_h
    image_from_square = np.array([[fx, 0.0, -ox * fx], [0.0, fy, -oy * fy]])
    return square, image_from_square
