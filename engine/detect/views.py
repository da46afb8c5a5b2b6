"""Where the person detector looks in a photo: the whole image, then overlapping tiles.

The detector reads a 224 px letterboxed square, so in a wide or large photo a small
person shrinks to a few pixels and is missed. Tiles are squares of the photo's short
side (no letterbox waste on a wide photo), then of half of it while a tile still
shrinks at least three times into the detector's input; neighbours overlap by at least a
fifth so a person cut by one tile's edge is whole in the next (or big enough for the
pass above).
"""

from __future__ import annotations

import math

from engine.detect.anchors import INPUT_SIZE

TILE_OVERLAP = 0.2
# Below this side a tile shows people hardly larger than the pass above does, and each
# level of smaller tiles costs four times as many passes.
MIN_TILE_SIDE = 3 * INPUT_SIZE
# A square-ish photo is covered by the whole-image pass at the first level already.
MIN_ASPECT_FOR_TILES = 1.2
MAX_LEVELS = 2


def _starts(length: int, side: int) -> list[int]:
    """Evenly spaced tile starts covering [0, length) with at least TILE_OVERLAP overlap."""
    if side >= length:
        return [0]
    n = math.ceil((length - side) / (side * (1 - TILE_OVERLAP))) + 1
    return [round(i * (length - side) / (n - 1)) for i in range(n)]


def detector_views(width: int, height: int) -> list[tuple[int, int, int, int] | None]:
    """The regions to run the person detector on, whole image (None) first.

    Returns:
        [None, (x0, y0, x1, y1), ...] integer pixel regions inside the image.
    """
    views: list[tuple[int, int, int, int] | None] = [None]
    short, long_ = min(width, height), max(width, height)
    side = short
    for level in range(MAX_LEVELS):
        if level == 0 and long_ < MIN_ASPECT_FOR_TILES * short:
            side //= 2
            continue
        if side < MIN_TILE_SIDE:
            break
        for y in _starts(height, side):
            for x in _starts(width, side):
                views.append((x, y, x + side, y + side))
        side //= 2
    return views
