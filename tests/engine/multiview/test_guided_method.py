"""The benchmark's diffusion method with guided sampling, on a real photo and detector."""

import numpy as np
from skimage import data

from engine.detect import PoseDetector
from engine.multiview.methods import build_methods


def test_guidance_reaches_the_benchmark_sampler():
    image = data.astronaut()
    detection = PoseDetector().detect(image)
    (plain,) = build_methods(("diffusion",), M=3)
    (guided,) = build_methods(("diffusion",), M=3, guidance_scale=2.0)

    (a,) = plain.predict([image], [detection])
    (b,) = guided.predict([image], [detection])

    assert guided.guidance_scale == 2.0 and b.hypotheses.shape == a.hypotheses.shape == (3, 12, 3)
    assert np.abs(a.hypotheses - b.hypotheses).max() > 1e-3
