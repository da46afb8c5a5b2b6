"""Reading images from disk with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.errors import ImageError


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB.

    Returns:
        image: (H, W, 3) uint8, RGB.

    Raises:
        ImageError: the file does not exist, is a folder, or is not a readable image.
    """
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p}: no such file")
    if p.is_dir():
        raise ImageError(f"{p}: is a folder, not an image")
    data = np.fromfile(str(p), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageError(f"{p}: not a readable image (unknown or corrupt format)")
    if image.dtype == np.uint16:
        image = (image / 257).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(image)


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write an RGB uint8 image (H, W, 3); the format follows the suffix."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(p.suffix or ".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ImageError(f"{p}: could not encode image")
    tmp = p.with_name(p.name + ".tmp")
    buf.tofile(str(tmp))
    tmp.replace(p)
