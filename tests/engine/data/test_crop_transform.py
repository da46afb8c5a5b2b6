"""Crop geometry: exact maps both ways, pixels landing where the map says."""

import cv2
import numpy as np
import pytest
import torch

from engine.body.projection import image_to_crop
from engine.data.crops import CropTransform, crop_image, square_crop, transform_keypoints
from engine.data.joint_sets import COCO17_FLIP

TRANSFORMS = [
    CropTransform(np.array([120.3, 80.7]), 97.5, 64),
    CropTransform(np.array([50.0, 60.0]), 40.0, 128, rotation=37.0),
    CropTransform(np.array([200.0, 10.0]), 300.0, 96, rotation=-120.0, flip=True),
]


@pytest.mark.parametrize("t", TRANSFORMS)
def test_image_to_crop_and_back_returns_to_the_same_pixel(t):
    uv = np.random.default_rng(0).uniform(-50, 400, (100, 2))
    assert np.abs(t.crop_px_to_image(t.image_to_crop_px(uv)) - uv).max() < 1e-3
    assert np.abs(t.crop_norm_to_image(t.image_to_crop_norm(uv)) - uv).max() < 1e-3
    # Normalised coordinates and crop pixels describe the same place.
    norm = t.image_to_crop_norm(uv)
    np.testing.assert_allclose((t.image_to_crop_px(uv) + 0.5) * 2 / t.out_size - 1, norm, atol=1e-9)


def test_upright_normalised_coordinates_are_the_projection_modules():
    t = TRANSFORMS[0]
    uv = np.random.default_rng(1).uniform(0, 300, (5, 2))
    theirs = image_to_crop(torch.tensor(uv)[None], torch.tensor(t.center)[None], torch.tensor([t.size]))[0]
    np.testing.assert_allclose(t.image_to_crop_norm(uv), theirs.numpy(), atol=1e-9)


@pytest.mark.parametrize("rotation, flip", [(0, False), (90, False), (180, True), (-90, True)])
def test_a_drawn_pixel_appears_at_its_mapped_crop_pixel(rotation, flip):
    image = np.zeros((100, 120, 3), np.uint8)
    image[37, 52] = (255, 128, 7)
    # Odd out_size with size == out_size: every image pixel centre lands on a crop pixel centre.
    t = CropTransform(np.array([60.0, 40.0]), 41, 41, rotation=rotation, flip=flip)
    x, y = np.rint(t.image_to_crop_px(np.array([52.0, 37.0]))).astype(int)
    crop = crop_image(image, t)
    assert crop[y, x].tolist() == [255, 128, 7]
    assert np.count_nonzero(crop.sum(-1)) == 1


@pytest.mark.parametrize("t, shape", [
    (CropTransform(np.array([70.3, 52.1]), 33.3, 96, rotation=25), (120, 160)),
    # Shrinks 12x: goes through the area-averaging path.
    (CropTransform(np.array([1100.0, 900.0]), 1200.0, 100, rotation=-30, flip=True), (2000, 2400)),
])
def test_a_drawn_blob_is_centred_where_the_map_puts_it(t, shape):
    image = np.zeros((*shape, 3), np.uint8)
    centre = t.crop_norm_to_image(np.array([0.31, -0.22]))
    radius = t.size * 0.06
    cv2.circle(image, tuple(int(round(c * 16)) for c in centre), int(radius * 16), (255, 255, 255), -1,
               lineType=cv2.LINE_AA, shift=4)
    crop = crop_image(image, t)[..., 0].astype(float)
    ys, xs = np.mgrid[: t.out_size, : t.out_size]
    found = np.array([(crop * xs).sum(), (crop * ys).sum()]) / crop.sum()
    assert np.abs(found - t.image_to_crop_px(centre)).max() < 0.15


def test_outside_the_image_the_crop_is_black():
    image = np.full((50, 50, 3), 200, np.uint8)
    crop = crop_image(image, CropTransform(np.array([0.0, 0.0]), 100, 20))
    # The image edge itself blends over one crop pixel.
    assert crop[:9, :9].max() == 0 and crop[11:19, 11:19].min() == 200
    assert crop_image(image, CropTransform(np.array([900.0, 900.0]), 500, 10)).max() == 0


def test_square_crop_keeps_the_centre_and_scales_the_longer_side():
    center, size = square_crop(np.array([10, 20, 50, 120]), 1.2)
    assert center.tolist() == [30, 70] and size == pytest.approx(120)


def test_mirrored_keypoints_swap_sides_and_flipping_twice_is_identity():
    kp = np.zeros((17, 3))
    kp[:, 0] = 100 + np.arange(17)
    kp[:, 1] = 50
    kp[:, 2] = 1
    t = CropTransform(np.array([105.0, 50.0]), 60, 64)
    plain = transform_keypoints(kp, t)
    mirrored = transform_keypoints(kp, CropTransform(t.center, t.size, 64, flip=True))
    np.testing.assert_allclose(mirrored[:, 0], -plain[list(COCO17_FLIP), 0], atol=1e-6)
    again = mirrored[list(COCO17_FLIP)]
    again[:, 0] *= -1
    np.testing.assert_allclose(again, plain, atol=1e-6)


def test_keypoints_outside_the_crop_lose_their_confidence():
    kp = np.array([[100, 100, 1.0], [300, 100, 0.8]] + [[100, 100, 0.5]] * 15)
    out = transform_keypoints(kp, CropTransform(np.array([100.0, 100.0]), 50, 32))
    assert out[0, 2] == 1 and out[1, 2] == 0 and out[1, 0] > 1
