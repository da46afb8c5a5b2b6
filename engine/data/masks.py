"""Person masks stored compactly: an 8-bit greyscale PNG of the person probability.

A full-image probability map is mostly zeros, which PNG's deflate shrinks to little;
8 bits keep the probability to 1/255, far finer than the model's own certainty.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.errors import DataError, ShapeError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode_mask(probability: np.ndarray) -> bytes:
    """PNG bytes of a (H, W) map of values in [0, 1] (rounded to 1/255)."""
    p = np.asarray(probability)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ShapeError(f"mask: expected an (H, W) map, got shape {p.shape}")
    levels = np.rint(np.clip(np.nan_to_num(p.astype(np.float32)), 0, 1) * 255).astype(np.uint8)
    ok, buf = cv2.imencode(".png", levels)
    if not ok:
        raise DataError(f"mask: PNG encoding failed for shape {p.shape}")
    return buf.tobytes()


def decode_mask(png: bytes) -> np.ndarray:
    """The (H, W) float32 probability map in [0, 1] of :func:`encode_mask`'s bytes."""
    if not isinstance(png, (bytes, bytearray, memoryview)) or not bytes(png[:8]) == PNG_SIGNATURE:
        raise DataError("mask: not PNG bytes")
    levels = cv2.imdecode(np.frombuffer(bytes(png), np.uint8), cv2.IMREAD_UNCHANGED)
    if levels is None or levels.ndim != 2 or levels.dtype != np.uint8:
        raise DataError("mask: not an 8-bit greyscale PNG")
    return levels.astype(np.float32) / 255.0
