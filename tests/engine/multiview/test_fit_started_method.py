"""The benchmark's diffusion method with the body fit as a candidate and a start, on a
real photo and detector."""

import numpy as np
from skimage import data

from engine.detect import PoseDetector
from engine.multiview.evaluate import view_errors
from engine.multiview.methods import build_methods


def test_the_fit_is_the_last_candidate_and_the_samples_started_from_it_stay_near_it():
    image = data.astronaut()
    detection = PoseDetector().detect(image)
    fit_method, free = build_methods(("fit", "diffusion"), M=4, with_fit=True, fit_start=0.0)
    (started,) = build_methods(("diffusion",), M=4, with_fit=True)
    assert started.fit_start == 0.05  # the default

    (fit,) = fit_method.predict([image], [detection])
    (a,) = free.predict([image], [detection])
    (b,) = started.predict([image], [detection])

    assert a.hypotheses.shape == b.hypotheses.shape == (5, 12, 3) and len(b.scores) == 5
    np.testing.assert_allclose(a.hypotheses[-1], fit.hypotheses[0], atol=1e-5)
    np.testing.assert_allclose(b.hypotheses[-1], fit.hypotheses[0], atol=1e-5)
    # Distances to the fit's body after alignment, mm: the started samples refine it,
    # those from pure noise are the model's own guesses.
    near = view_errors(b.hypotheses[:-1], fit.hypotheses[0])[1]
    far = view_errors(a.hypotheses[:-1], fit.hypotheses[0])[1]
    assert near.mean() < 0.6 * far.mean() and near.max() < 60.0
