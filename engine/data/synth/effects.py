"""Camera and sensor degradations applied to a finished image: colour shifts, low
resolution, gaussian and motion blur, sensor noise."""

from __future__ import annotations

import cv2
import numpy as np

from engine.data.synth.domains import DomainConfig


def _motion_kernel(rng: np.random.Generator, length: int) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    c = (length - 1) / 2
    angle = rng.uniform(0, np.pi)
    d = np.array([np.cos(angle), np.sin(angle)]) * c
    cv2.line(k, (int(round(c - d[0])), int(round(c - d[1]))), (int(round(c + d[0])), int(round(c + d[1]))), 1.0, 1)
    return k / k.sum()


def degrade(image: np.ndarray, rng: np.random.Generator, cfg: DomainConfig) -> np.ndarray:
    """Apply the domain's degradations.

    Args:
        image: (H, W, 3) uint8 RGB.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    h, w = image.shape[:2]
    img = image
    if cfg.colour_jitter > 0:
        # Gain, offset and gamma per channel as one lookup table: cheaper than float maths.
        gain = 1.0 + rng.normal(scale=cfg.colour_jitter, size=3)
        offset = rng.normal(scale=cfg.colour_jitter * 40)
        gamma = np.exp(rng.normal(scale=0.25)) if rng.random() < 0.5 else 1.0
        x = np.arange(256, dtype=np.float64)[:, None]
        lut = np.clip(x * gain + offset, 0, 255)
        lut = 255.0 * (lut / 255.0) ** gamma
        img = cv2.LUT(img, np.clip(lut + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3))
    if rng.random() < cfg.lowres_prob:
        f = rng.uniform(0.3, 0.7)
        small = cv2.resize(img, (max(int(w * f), 8), max(int(h * f), 8)), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.blur_prob:
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.6, 1.8)) * w / 256)
    if rng.random() < cfg.motion_blur_prob:
        length = int(rng.integers(3, 12) * w / 256) | 1
        img = cv2.filter2D(img, -1, _motion_kernel(rng, max(length, 3)))
    sigma = rng.uniform(*cfg.noise_sigma)
    if sigma < 0.25:
        return np.ascontiguousarray(img)
    noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(img + noise + np.float32(0.5), 0, 255).astype(np.uint8)
