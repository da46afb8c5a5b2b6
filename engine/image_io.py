"""Reading images from disk with errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.errors import ImageError

# Largest photo accepted (width x height): 100 megapixels, above any camera's photo but far
# below what a small file can declare (a 389 KB PNG can say 20000 x 20000, 1.2 GB decoded).
MAX_IMAGE_PIXELS = 100_000_000
# Smallest side: a person needs a few pixels to be seen at all.
MIN_IMAGE_SIDE = 8


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image file from its header, without decoding the pixels.

    Raises:
        ImageError: the file is missing, not an image, or larger than MAX_IMAGE_PIXELS
        or smaller than MIN_IMAGE_SIDE on a side.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    try:
        with warnings.catch_warnings():
            # PIL's own bomb check warns (or raises) at its own limit; ours is below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                width, height = (int(v) for v in im.size)
    except FileNotFoundError:
        raise ImageError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{p}: is a folder, not an image") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{p}: declares more pixels than an image may have "
                         f"({MAX_IMAGE_PIXELS // 1_000_000} megapixels at most)") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageError(f"{p}: not a readable image ({type(exc).__name__})") from None
    check_image_size(p, width, height)
    return width, height


def check_image_size(path: str | Path, width: int, height: int) -> None:
    """ImageError unless width x height is within MIN_IMAGE_SIDE and MAX_IMAGE_PIXELS."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageError(f"{path}: {width}x{height} is {width * height / 1e6:.0f} megapixels, more than the "
                         f"{MAX_IMAGE_PIXELS // 1_000_000} an image may have; shrink it first")
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageError(f"{path}: {width}x{height} pixels is too small to hold a person "
                         f"(at least {MIN_IMAGE_SIDE} pixels a side)")


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB.

    Returns:
        image: (H, W, 3) uint8, RGB.

    Raises:
        ImageError: the file does not exist, is a folder, is not a readable image, or is
        too large (checked from its header before decoding) or too small.
    """
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p}: no such file")
    if p.is_dir():
        raise ImageError(f"{p}: is a folder, not an image")
    try:
        image_size(p)
    except ImageError as exc:
        # PIL does not read every format cv2 does; a size it cannot tell is checked below.
        if "not a readable image" not in str(exc):
            raise
    data = np.fromfile(str(p), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageError(f"{p}: not a readable image (unknown or corrupt format)")
    check_image_size(p, image.shape[1], image.shape[0])
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
