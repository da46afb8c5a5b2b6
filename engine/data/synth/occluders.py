"""Objects in front of the person: polygons, boxes, poles and blobs drawn over the render.

The returned mask says which pixels they cover, so keypoints under them count as
occluded.
"""

from __future__ import annotations

import cv2
import numpy as np


def _shaded(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 surface: a colour with a linear shading ramp and grain."""
    colour = rng.uniform(0.05, 0.95, size=3).astype(np.float32) * 255
    angle = rng.uniform(0, 2 * np.pi)
    slope = rng.uniform(0.1, 0.5) / max(h, w)
    ramp = (1.0 + (np.arange(w, dtype=np.float32)[None, :] - w / 2) * np.float32(slope * np.cos(angle))
            + (np.arange(h, dtype=np.float32)[:, None] - h / 2) * np.float32(slope * np.sin(angle)))
    grain = 1.0 + rng.standard_normal((h, w), dtype=np.float32) * np.float32(rng.uniform(0.0, 0.12))
    return np.clip(colour * (ramp * grain)[..., None], 0, 255).astype(np.uint8)


def draw_occluders(image: np.ndarray, box: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """Draw ``count`` occluders overlapping the person's box, in place.

    Args:
        image: (H, W, 3) uint8 RGB, modified in place.
        box: (4,) x0, y0, x1, y1 of the person in pixels.
        count: how many occluders.

    Returns:
        mask: (H, W) bool, pixels covered by an occluder.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = max(x1 - x0, 4.0), max(y1 - y0, 4.0)
    side = max(bw, bh)
    covered = np.zeros((h, w), np.uint8)
    for _ in range(count):
        layer = np.zeros((h, w), np.uint8)
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        kind = rng.integers(4)
        if kind == 0:
            r = rng.uniform(0.08, 0.2) * side
            pts = np.stack([cx, cy]) + rng.normal(scale=r, size=(int(rng.integers(3, 8)), 2))
            cv2.fillPoly(layer, [cv2.convexHull(pts.astype(np.int32))], 255)
        elif kind == 1:
            half = rng.uniform(0.08, 0.22, size=2) * np.array([bw, bh]) + 2
            cv2.rectangle(layer, (int(cx - half[0]), int(cy - half[1])), (int(cx + half[0]), int(cy + half[1])), 255, -1)
        elif kind == 2:
            # A pole or railing crossing the whole image.
            width = max(int(rng.uniform(0.04, 0.12) * bw), 2)
            angle = rng.uniform(-0.4, 0.4) + (np.pi / 2 if rng.random() < 0.6 else 0.0)
            d = np.array([np.cos(angle), np.sin(angle)]) * 2 * max(h, w)
            p, q = np.array([cx, cy]) - d, np.array([cx, cy]) + d
            cv2.line(layer, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), 255, width)
        else:
            axes = (int(rng.uniform(0.06, 0.18) * side) + 2, int(rng.uniform(0.06, 0.18) * side) + 2)
            cv2.ellipse(layer, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        rows = np.flatnonzero(layer.any(axis=1))
        cols = np.flatnonzero(layer.any(axis=0))
        if len(rows) == 0:
            continue
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        sel = layer[r0:r1, c0:c1] > 0
        image[r0:r1, c0:c1][sel] = _shaded(rng, r1 - r0, c1 - c0)[sel]
        covered |= layer
    return covered > 0
