"""Group photos with exact ground truth: several rendered people pasted into one image.

Each person is a studio render (``render_sample``) cut out by its body mask, scaled to
a chosen height and pasted at a chosen place, back to front, so later people hide
earlier ones and people placed across the border are cut by the frame. What is left
visible of each person is known to the pixel, which the detector tests and benchmarks
score against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from engine.data.synth.backgrounds import studio_background
from engine.data.synth.domains import get_domain
from engine.data.synth.render import SynthBody, render_sample, sample_rng
from engine.errors import DataError

# Render a little larger than the pasted height so the paste shrinks (sharp) rather
# than enlarges, within what rasterising costs.
RENDER_OVERSIZE = 1.3
MIN_RENDER, MAX_RENDER = 128, 768


@dataclass(frozen=True)
class Placement:
    """Where one person goes.

    index: which studio render (its pose, shape, clothes and light).
    centre: (x, y) composite pixels of the centre of the person's tight box; it may lie
        near or past the border to cut the person.
    height: the tight box's height in composite pixels.
    """

    index: int
    centre: tuple[float, float]
    height: float


@dataclass(frozen=True, eq=False)
class CompositePerson:
    """One pasted person's ground truth, composite pixels.

    full_box: (4,) float32 x0, y0, x1, y1 of the whole body, possibly past the border.
    visible_box: (4,) float32 box of the visible pixels (zeros when none are).
    visible_mask: (H, W) bool, the person's pixels left visible.
    visible_fraction: visible pixels / all of the body's pixels (in or out of frame).
    keypoints: (17, 3) float32 COCO-17 x, y and 1 where the point is seen (in frame, not
        self-hidden, not covered by a person in front), else 0.
    """

    full_box: np.ndarray
    visible_box: np.ndarray
    visible_mask: np.ndarray
    visible_fraction: float
    keypoints: np.ndarray


@dataclass(frozen=True, eq=False)
class Composite:
    """image: (H, W, 3) uint8 RGB. people: in paste order (back to front)."""

    image: np.ndarray
    people: tuple[CompositePerson, ...]


def _cutout(sb: SynthBody, index: int, height: float, seed: int):
    """A person render scaled so its tight box is ``height`` px tall.

    Returns: rgb (h, w, 3) uint8, mask (h, w) bool, keypoints (17, 3) in the cut-out's
    pixels (float64), the cut-out's scale from render pixels.
    """
    size = int(min(max(math.ceil(height * RENDER_OVERSIZE), MIN_RENDER), MAX_RENDER))
    r = render_sample(sb, get_domain("studio"), seed, index, size=size)
    rows, cols = np.flatnonzero(r.body_mask.any(axis=1)), np.flatnonzero(r.body_mask.any(axis=0))
    if not len(rows):
        raise DataError(f"composite: render {index} has no body pixels")
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    k = height / (y1 - y0)
    out_w, out_h = max(1, round((x1 - x0) * k)), max(1, round(height))
    rgb = cv2.resize(r.image[y0:y1, x0:x1], (out_w, out_h), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(r.body_mask[y0:y1, x0:x1].astype(np.uint8), (out_w, out_h),
                      interpolation=cv2.INTER_NEAREST).astype(bool)
    kp = r.row["keypoints_coco_gt"].astype(np.float64).copy()
    kp[:, 0] = (kp[:, 0] - x0) * out_w / (x1 - x0)
    kp[:, 1] = (kp[:, 1] - y0) * out_h / (y1 - y0)
    return rgb, mask, kp


def compose(sb: SynthBody, placements: list[Placement], width: int, height: int,
            seed: int = 0) -> Composite:
    """Paste rendered people into a ``width`` x ``height`` studio backdrop.

    Args:
        sb: the body to render.
        placements: back to front.
        seed: the backdrop's and the renders' seed.

    Raises:
        DataError: an empty placement list, a size under 2 px, or a person with no pixels.
    """
    if not placements:
        raise DataError("composite: no people to place")
    if width < 2 or height < 2:
        raise DataError(f"composite: size {width}x{height} is too small")
    rng = sample_rng(seed, "composite", 0)
    side = max(width, height)
    image = studio_background(rng, side)[:height, :width].copy()
    owner = np.full((height, width), -1, np.int32)  # which person each pixel shows
    full_boxes, body_pixels, keypoints = [], [], []
    for i, p in enumerate(placements):
        if p.height < 2:
            raise DataError(f"composite: person {i} height {p.height} is under 2 px")
        rgb, mask, kp = _cutout(sb, p.index, p.height, seed)
        h, w = mask.shape
        ox, oy = round(p.centre[0] - w / 2), round(p.centre[1] - h / 2)
        full_boxes.append(np.array([ox, oy, ox + w, oy + h], np.float32))
        body_pixels.append(int(mask.sum()))
        kp[:, 0] += ox
        kp[:, 1] += oy
        keypoints.append(kp)
        # The part of the cut-out inside the frame.
        cx0, cy0 = max(0, -ox), max(0, -oy)
        cx1, cy1 = min(w, width - ox), min(h, height - oy)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        m = mask[cy0:cy1, cx0:cx1]
        region = (slice(oy + cy0, oy + cy1), slice(ox + cx0, ox + cx1))
        image[region][m] = rgb[cy0:cy1, cx0:cx1][m]
        owner[region][m] = i
    people = []
    for i, kp in enumerate(keypoints):
        visible = owner == i
        rows, cols = np.flatnonzero(visible.any(axis=1)), np.flatnonzero(visible.any(axis=0))
        vbox = (np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], np.float32)
                if len(rows) else np.zeros(4, np.float32))
        xi, yi = np.floor(kp[:, 0]).astype(int), np.floor(kp[:, 1]).astype(int)
        inside = (xi >= 0) & (xi < width) & (yi >= 0) & (yi < height)
        # A point on this person's own pixel or next to its silhouette edge counts as
        # seen; one on a later person's pixels is covered.
        shown = np.zeros(17, bool)
        shown[inside] = owner[yi[inside], xi[inside]] <= i
        seen = (kp[:, 2] > 0) & inside & shown
        people.append(CompositePerson(
            full_box=full_boxes[i], visible_box=vbox, visible_mask=visible,
            visible_fraction=float(visible.sum()) / max(body_pixels[i], 1),
            keypoints=np.column_stack([kp[:, :2], seen]).astype(np.float32),
        ))
    return Composite(image=image, people=tuple(people))


# A 1280 x 720 street: a man cut by the left border, two people overlapping in the
# middle (one in front of the other), a crouching man cut by the bottom border.
STREET = (1280, 720, (
    Placement(0, (30, 380), 560), Placement(1, (560, 420), 480),
    Placement(2, (690, 450), 430), Placement(3, (1050, 600), 520),
))
# 640 x 480: one person behind, a second in front of them cut at the waist by the frame.
TWO_PEOPLE = (640, 480, (Placement(8, (300, 330), 520), Placement(9, (420, 560), 700)))


def scene(sb: SynthBody, layout: tuple[int, int, tuple[Placement, ...]], seed: int = 1) -> Composite:
    """One of the named layouts (``STREET``, ``TWO_PEOPLE``) rendered with ``sb``."""
    width, height, placements = layout
    return compose(sb, list(placements), width, height, seed)
