"""Procedural backgrounds: studio backdrops and cluttered in-the-wild scenes, no downloads.

All functions return (size, size, 3) uint8 RGB images and draw only from the given rng.
"""

from __future__ import annotations

import cv2
import numpy as np


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """A colour between grey and fully saturated, as found in man-made scenes."""
    rgb = rng.uniform(0.0, 1.0, size=3)
    grey = rgb.mean()
    c = grey + (rgb - grey) * rng.uniform(0.2, 1.0)
    r, g, b = (int(v) for v in np.clip(c, 0, 1) * 255)
    return r, g, b


def _smooth_field(rng: np.random.Generator, size: int, cells: int, channels: int = 3) -> np.ndarray:
    """(size, size, channels) float32 in [0, 1]: random values on a coarse grid, upsampled."""
    grid = rng.random((cells, cells, channels)).astype(np.float32)
    field = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(field.reshape(size, size, channels), 0.0, 1.0)


def studio_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A plain, gradient or wall-and-floor backdrop in muted colours."""
    base = rng.uniform(0.45, 0.95) + rng.normal(scale=0.04, size=3)
    other = np.clip(base * rng.uniform(0.6, 1.0) + rng.normal(scale=0.03, size=3), 0, 1)
    kind = rng.integers(3)
    y = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    img: np.ndarray
    if kind == 0:
        img = np.broadcast_to(base.astype(np.float32), (size, size, 3))
    elif kind == 1:
        img = base * (1 - y) + other * y
        img = np.broadcast_to(img, (size, size, 3))
    else:
        horizon = rng.uniform(0.65, 0.9)
        soft = 1.0 / (1.0 + np.exp(-(y - horizon) * 60.0))
        img = np.broadcast_to(base * (1 - soft) + other * soft, (size, size, 3))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _stripes(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w) float32 in [0, 1]: a sinusoidal or square-wave grating at a random angle."""
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(4, 30)
    k = 2 * np.pi / period
    phase = (np.arange(w, dtype=np.float32)[None, :] * np.float32(np.cos(angle) * k)
             + np.arange(h, dtype=np.float32)[:, None] * np.float32(np.sin(angle) * k))
    wave = np.sin(phase)
    if rng.random() < 0.5:
        wave = np.sign(wave)
    return wave * np.float32(0.5) + np.float32(0.5)


def _texture_patch(canvas: np.ndarray, rng: np.random.Generator, c: tuple[int, int, int]) -> None:
    """Fill a random rectangle of ``canvas`` with stripes or noise between two colours."""
    size = canvas.shape[0]
    p = rng.integers(-size // 4, size + size // 4, size=2)
    q = p + rng.integers(size // 8, size // 2, size=2)
    x0, y0 = np.clip(p, 0, size)
    x1, y1 = np.clip(q, 0, size)
    if x1 <= x0 or y1 <= y0:
        return
    h, w = int(y1 - y0), int(x1 - x0)
    pattern = _stripes(rng, h, w) if rng.random() < 0.6 else rng.random((h, w), dtype=np.float32)
    c1 = np.array(c, np.float32)
    c2 = np.array(_colour(rng), np.float32)
    canvas[y0:y1, x0:x1] = (c2 + (c1 - c2) * pattern[..., None]).astype(np.uint8)


def cluttered_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A busy scene: smooth colour fields, shapes, stripes, noise patches and blurred blobs."""
    img = _smooth_field(rng, size, int(rng.integers(2, 7)))
    grey = (img[..., :1] + img[..., 1:2] + img[..., 2:]) / 3
    img = grey + (img - grey) * rng.uniform(0.3, 1.0)
    img = img * rng.uniform(0.4, 1.0) + rng.uniform(0, 0.3)
    canvas = (np.clip(img, 0, 1) * 255).astype(np.uint8)
    for _ in range(int(rng.integers(6, 22))):
        kind = rng.integers(6)
        c = _colour(rng)
        p = rng.integers(-size // 4, size + size // 4, size=2)
        r = int(rng.integers(size // 20, size // 3))
        if kind == 0:
            q = p + rng.integers(size // 16, size // 2, size=2)
            cv2.rectangle(canvas, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), c, -1)
        elif kind == 1:
            cv2.circle(canvas, (int(p[0]), int(p[1])), r, c, -1)
        elif kind == 2:
            axes = (r, int(rng.integers(size // 30, size // 4)))
            cv2.ellipse(canvas, (int(p[0]), int(p[1])), axes, float(rng.uniform(0, 180)), 0, 360, c, -1)
        elif kind == 3:
            pts = (p + rng.normal(scale=r, size=(int(rng.integers(3, 7)), 2))).astype(np.int32)
            cv2.fillPoly(canvas, [cv2.convexHull(pts)], c)
        elif kind == 4:
            q = rng.integers(0, size, size=2)
            cv2.line(canvas, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), c, int(rng.integers(1, 8)))
        else:
            _texture_patch(canvas, rng, c)
    if rng.random() < 0.7:
        # Blobs are drawn and blurred at quarter resolution, then upsampled: they are smooth.
        quarter = max(size // 4, 8)
        blobs = np.zeros((quarter, quarter, 3), np.float32)
        alpha = np.zeros((quarter, quarter), np.float32)
        for _ in range(int(rng.integers(2, 8))):
            p = rng.integers(0, quarter, size=2)
            r = int(rng.integers(max(quarter // 16, 1), quarter // 4 + 2))
            cv2.circle(blobs, (int(p[0]), int(p[1])), r, _colour(rng), -1)
            cv2.circle(alpha, (int(p[0]), int(p[1])), r, 1.0, -1)
        k = float(rng.uniform(3, 10)) * quarter / 256 * 4
        # Blurring colour-on-black and coverage alike keeps the colour premultiplied.
        blobs_full = cv2.resize(cv2.GaussianBlur(blobs, (0, 0), k), (size, size), interpolation=cv2.INTER_LINEAR)
        alpha_full = cv2.resize(cv2.GaussianBlur(alpha, (0, 0), k), (size, size), interpolation=cv2.INTER_LINEAR)
        strength = np.float32(rng.uniform(0.5, 1.0))
        canvas = np.clip(canvas * (1 - alpha_full[..., None] * strength) + blobs_full * strength, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        canvas = cv2.GaussianBlur(canvas, (0, 0), float(rng.uniform(0.5, 2.5)) * size / 256)
    return canvas
