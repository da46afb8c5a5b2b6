"""Anchors, body crops and the warps between images and model inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.detect.anchors import anchor_centres, weighted_nms
from engine.detect.geometry import (
    RotatedSquare,
    apply_affine,
    crop_square,
    invert_affine,
    letterbox,
    paste_square,
    shrink,
)
from engine.detect.landmarker import refine_with_heatmaps
from engine.detect.person_finder import body_square


def test_anchor_layout_matches_the_detector_outputs() -> None:
    centres = anchor_centres()
    assert centres.shape == (2254, 2)
    # 28x28 cells x2 at stride 8, 14x14 x2 at 16, then 7x7 x6 at 32.
    np.testing.assert_allclose(centres[0], [0.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(centres[1], centres[0])
    np.testing.assert_allclose(centres[2], [1.5 / 28, 0.5 / 28])
    np.testing.assert_allclose(centres[1568], [0.5 / 14, 0.5 / 14])
    np.testing.assert_allclose(centres[1960:1966], np.full((6, 2), 0.5 / 7))
    np.testing.assert_allclose(centres[-1], [6.5 / 7, 6.5 / 7])


def test_nms_averages_overlapping_anchors_and_keeps_separate_people() -> None:
    boxes = np.array([[0, 0, 1, 1], [0.1, 0, 1.1, 1], [5, 5, 6, 6], [5, 5.1, 6, 6.1]], np.float32)
    kps = np.zeros((4, 4, 2), np.float32)
    kps[:, 0, 0] = [1.0, 2.0, 9.0, 7.0]
    scores = np.array([0.9, 0.6, 0.95, 0.4], np.float32)
    found = weighted_nms(boxes, kps, scores, min_score=0.5)
    assert [round(s, 2) for _, _, s in found] == [0.95, 0.9]  # strongest first
    assert found[0][1][0, 0] == pytest.approx(9.0)  # the 0.4 anchor is under min_score
    assert found[1][1][0, 0] == pytest.approx((0.9 * 1 + 0.6 * 2) / 1.5)
    np.testing.assert_allclose(found[1][0], [0.04, 0, 1.04, 1], atol=1e-6)
    assert weighted_nms(boxes, kps, scores, min_score=0.99) == []


@pytest.mark.parametrize(
    "scale_point, rotation",
    [
        ((100, 100), 0.0),
        ((200, 200), math.pi / 2),
        ((0, 200), -math.pi / 2),
        ((100, 300), -math.pi),
    ],
)
def test_body_square_turns_hip_to_head_upright(scale_point, rotation) -> None:
    square = body_square(np.array([[100.0, 200.0], scale_point]))
    assert square.centre == (100.0, 200.0)
    assert square.size == pytest.approx(2 * 100 * 1.25)
    assert math.cos(square.rotation - rotation) == pytest.approx(1.0)
    # The top-centre of the crop lies along the hip-to-scale-point direction.
    top = apply_affine(square.crop_to_image(256), np.array([[128.0, 0.0]]))[0]
    direction = (np.array(scale_point) - [100, 200]) / 100
    np.testing.assert_allclose((top - [100, 200]) / 125, direction, atol=1e-9)


@pytest.mark.parametrize("size", [120.0, 1500.0])  # the second shrinks before warping
def test_crop_finds_a_dot_where_the_affine_says(size) -> None:
    image = np.zeros((900, 1200, 3), np.uint8)
    dot = np.array([610.5, 380.5])  # centre of pixel (row 380, col 610)
    image[376:385, 606:615] = 255
    square = RotatedSquare((600.0, 400.0), size, 0.6)
    crop = crop_square(image, square, 256).astype(float).sum(axis=2)
    expected = apply_affine(invert_affine(square.crop_to_image(256)), dot[None])[0]
    rows, cols = np.mgrid[0:256, 0:256]
    found = np.array([(cols * crop).sum(), (rows * crop).sum()]) / crop.sum() + 0.5
    np.testing.assert_allclose(found, expected, atol=0.5)


def test_paste_covers_the_square_only() -> None:
    square = RotatedSquare((200.0, 150.0), 100.0, math.pi / 4)
    pasted = paste_square(np.ones((256, 256), np.float32), square, (300, 400))
    assert pasted.shape == (300, 400)
    assert pasted.sum() == pytest.approx(100 * 100, rel=0.03)
    assert pasted[150, 200] == 1.0 and pasted[110, 160] == 0.0  # centre; outside a corner


def test_letterbox_keeps_aspect_and_maps_back() -> None:
    image = np.full((100, 300, 3), 200, np.uint8)
    square, image_from_square = letterbox(image, 224)
    assert square.shape == (224, 224, 3)
    assert square[0, 0].max() == 0 and square[112, 112].min() == 200
    corners = apply_affine(image_from_square, np.array([[0.0, 74.0], [224.0, 149.0]]))
    np.testing.assert_allclose(corners, [[0, 0], [300, 100]], atol=0.5)


@pytest.mark.parametrize("factor", [2, 3, 4, 6])
def test_shrink_averages_whole_blocks(factor) -> None:
    rng = np.random.default_rng(factor)
    image = rng.integers(0, 256, (50, 75, 3)).astype(np.uint8)
    small = shrink(image, factor)
    h, w = 50 // factor, 75 // factor
    assert small.shape == (h, w, 3) and small.dtype == np.uint8
    blocks = image[: h * factor, : w * factor].astype(float)
    mean = blocks.reshape(h, factor, w, factor, 3).mean(axis=(1, 3))
    # Halvings round to uint8 at each step: at most one level off the exact mean.
    assert np.abs(small - mean).max() <= 1.0
    assert shrink(image, 1) is image


def _heatmaps(peaks: dict[int, list[tuple[int, int]]], n: int = 3) -> np.ndarray:
    """(64, 64, n) logits: -30 everywhere, +10 at each channel's peak cells (row, col)."""
    hm = np.full((64, 64, n), -30.0, np.float32)
    for channel, cells in peaks.items():
        for row, col in cells:
            hm[row, col, channel] = 10.0
    return hm


def test_heatmap_refinement_moves_points_to_their_own_peak() -> None:
    # 256 px crop, 64 cells: 4 px per cell; the window is 7 x 7 cells around the point.
    points = np.array([[41.0, 81.0], [41.0, 81.0], [2.5, 30.0], [300.0, 10.0]], np.float32)
    hm = _heatmaps({0: [(20, 10), (20, 11)], 1: [(22, 12)], 2: [(7, 0), (7, 1)], 3: [(2, 63)]}, n=4)
    out = refine_with_heatmaps(points, hm)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], [10.5 * 4, 20 * 4], atol=1e-3)  # between its two peaks
    np.testing.assert_allclose(out[1], [12 * 4, 22 * 4], atol=1e-3)  # its own channel's peak
    # At the heatmap's left edge the window is cut off, not padded: the two peak cells
    # weigh equally and nothing else does.
    np.testing.assert_allclose(out[2], [0.5 * 4, 7 * 4], atol=1e-3)
    np.testing.assert_array_equal(out[3], points[3])  # outside the crop: unchanged


def test_heatmap_refinement_ignores_vague_and_distant_peaks() -> None:
    points = np.array([[41.0, 81.0], [41.0, 81.0]], np.float32)
    hm = _heatmaps({1: [(20, 30)]}, n=2)  # channel 0 vague; channel 1 peaks 20 cells away
    hm[:, :, 0] = 0.0  # sigmoid 0.5 everywhere would pass; just under it must not
    hm[:, :, 0] -= 1e-3
    np.testing.assert_array_equal(refine_with_heatmaps(points, hm), points)
