"""The overlay of a very large photo is drawn at a bounded resolution, in the right place."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data

from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.pipeline import OVERLAY_MAX_SIDE, render_overlay, sample_image
from engine.models.sample_settings import SampleSettings

def test_a_large_photo_overlay_is_bounded_and_matches_the_small_one(body):
    # The default model: its bodies cover the astronaut, where a random model's are
    # specks that any resampling of the crop moves.
    model = DiffusionHMR.load(body=body)
    small = data.astronaut()  # 512 x 512
    factor = 10  # 5120 x 5120: 26 megapixels
    large = cv2.resize(small, (512 * factor, 512 * factor), interpolation=cv2.INTER_NEAREST)
    keypoints = np.array([  # the astronaut's COCO-17 keypoints (x, y px, confidence)
        [221.7, 127.0, 1], [247.4, 111.2, 1], [203.4, 100.7, 1], [257.4, 120.0, 1], [180.0, 110.0, 1],
        [301.0, 255.0, 1], [100.0, 240.0, 1], [330.0, 380.0, 1], [60.0, 420.0, 1], [260.0, 480.0, 1],
        [150.0, 470.0, 1], [280.0, 500.0, 0], [150.0, 500.0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0],
    ], np.float32)
    settings = SampleSettings(num_candidates=3)
    runs = {}
    for name, image, k in (("small", small, 1), ("large", large, factor)):
        scaled = keypoints * np.array([k, k, 1], np.float32)
        result = sample_image(image, model, settings, keypoints=scaled, body=body)
        runs[name] = render_overlay(result, body.faces)
    assert runs["large"].shape == (OVERLAY_MAX_SIDE, OVERLAY_MAX_SIDE, 3)
    # The same drawing in the same place: the large overlay shrunk to 512 px covers what
    # the small one covers.
    shrunk = cv2.resize(runs["large"], (512, 512), interpolation=cv2.INTER_AREA).astype(int)
    drawn_small = np.abs(runs["small"].astype(int) - small).sum(-1) > 30
    drawn_large = np.abs(shrunk - small).sum(-1) > 30
    assert drawn_small.mean() > 0.1
    # (the candidates differ a little: the crops are resampled from different pixels)
    assert (drawn_small & drawn_large).sum() / (drawn_small | drawn_large).sum() > 0.8
