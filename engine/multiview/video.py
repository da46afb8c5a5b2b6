"""Frames of a video file, decoded with OpenCV, with errors a user can act on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from engine.errors import ImageError


def read_frames(
    path: str | Path, stride: int = 1, max_frames: int | None = None, first_frame: int = 0
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame index, (H, W, 3) uint8 RGB) for every ``stride``-th frame from
    ``first_frame`` on (index first_frame, first_frame + stride, ...).

    max_frames: stop after this many yielded frames (None: to the end).
    Raises:
        ImageError: the file is missing, or no frame of it can be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such video file")
    if stride < 1 or first_frame < 0:
        raise ImageError(f"{path}: frame stride must be at least 1 and the first frame at least 0, "
                         f"got {stride} and {first_frame}")
    capture = cv2.VideoCapture(str(path))
    try:
        index = yielded = 0
        while max_frames is None or yielded < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            if index >= first_frame and (index - first_frame) % stride == 0:
                yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                yielded += 1
            index += 1
        if index == 0:
            raise ImageError(f"{path}: not a readable video (no frame could be decoded)")
    finally:
        capture.release()
