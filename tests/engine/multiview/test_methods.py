"""The benchmark's methods on a real photo, with the real detector and bundled checkpoints."""

import numpy as np
import pytest
from skimage import data

from engine.detect import PoseDetector
from engine.errors import DataError
from engine.metrics import pa_mpjpe
from engine.multiview.evaluate import reference_in_camera, view_errors
from engine.data.crops import square_crop
from engine.multiview.calibration import Camera
from engine.multiview.methods import BlazePoseWorld, DiffusionSampler, build_methods


@pytest.fixture(scope="module")
def astronaut():
    image = data.astronaut()
    return image, PoseDetector().detect(image)


@pytest.fixture(scope="module")
def sampler():
    (method,) = build_methods(("diffusion",), M=6)
    return method


def test_diffusion_sampler_gives_camera_oriented_hypotheses_and_scores(astronaut, sampler):
    image, detection = astronaut

    (first,) = sampler.predict([image], [detection])
    reseeded = DiffusionSampler(sampler.model, sampler.scorer, sampler.body, M=6, seed=1)
    (second,) = reseeded.predict([image], [detection])

    assert first.hypotheses.shape == (6, 12, 3) and first.scores.shape == (6,)
    # Hypothesis 0 starts from zero noise, so it does not depend on the seed; the rest do.
    np.testing.assert_allclose(first.hypotheses[0], second.hypotheses[0], atol=1e-5)
    assert np.abs(first.hypotheses[1:] - second.hypotheses[1:]).max() > 1e-3
    # Camera-oriented (y down): the shoulders are above the hips in the image's sense.
    shoulders = first.hypotheses[:, :2].mean(axis=1)
    hips = first.hypotheses[:, 6:8].mean(axis=1)
    assert np.all(shoulders[:, 1] < hips[:, 1])


def test_each_hypothesis_is_scored_against_the_reference(astronaut, sampler):
    image, detection = astronaut
    (pred,) = sampler.predict([image], [detection])

    mpjpe, pa = view_errors(pred.hypotheses, reference_in_camera(pred.hypotheses[2], np.eye(3)))

    assert mpjpe[2] == pytest.approx(0.0, abs=1e-9) and np.all(mpjpe[[0, 1, 3, 4, 5]] > 0)
    assert pa[2] == pytest.approx(0.0, abs=1e-6) and np.all(pa[[0, 1, 3, 4, 5]] > 0)
    # PA-MPJPE forgives a hypothesis's rotation and scale; MPJPE does not. (PA-MPJPE may
    # still exceed MPJPE: Procrustes minimises squared, not mean, distances.)
    turned = 1.3 * pred.hypotheses @ np.array([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]]).T
    mpjpe_t, pa_t = view_errors(turned, reference_in_camera(pred.hypotheses[2], np.eye(3)))
    np.testing.assert_allclose(pa_t, pa, atol=1e-3)  # mm
    assert np.all(mpjpe_t[[0, 1, 3, 4, 5]] > mpjpe[[0, 1, 3, 4, 5]])


def test_blazepose_world_is_one_upright_metric_body_at_the_hips(astronaut):
    image, detection = astronaut

    (pred,) = BlazePoseWorld().predict([image], [detection])

    (body,) = pred.hypotheses
    assert pred.hypotheses.shape == (1, 12, 3) and pred.scores is None
    assert np.linalg.norm(body[6:8].mean(axis=0)) < 0.05  # hip midpoint at the origin
    assert body[:2, 1].mean() < -0.3  # shoulders above the hips (y down), in metres
    assert 0.25 < np.linalg.norm(body[0] - body[1]) < 0.5  # shoulder width


def test_fit_is_an_upright_body_per_view_close_to_the_world_landmarks(astronaut, sampler):
    image, detection = astronaut
    (fit,) = build_methods(("fit",))
    fit.body = sampler.body  # the body model already loaded

    preds = fit.predict([image, image], [detection, detection])

    assert [p.hypotheses.shape for p in preds] == [(1, 12, 3), (1, 12, 3)]
    (world,) = BlazePoseWorld().predict([image], [detection])
    for pred in preds:
        body = pred.hypotheses[0]
        assert body[:2, 1].mean() < body[6:8, 1].mean() - 0.2  # shoulders above the hips
        # The astronaut is cut at the waist: compare what is seen, arms and hips.
        pa = pa_mpjpe(pred.hypotheses[:, :8], world.hypotheses[:, :8])
        # Near the world landmarks, not on them: they are a low-weight term of the fit
        # (the keypoints lead), 62 mm here; a body turned or bent wrong is well over 100.
        assert pa[0] < 75.0  # mm


def test_with_a_camera_the_bodies_are_turned_from_the_crop_into_the_camera(astronaut, sampler):
    image, detection = astronaut
    # A wide-angle camera whose optical centre is the image's top-left corner: the
    # astronaut is seen about 20 degrees off its axis.
    K = np.array([[900.0, 0, 0], [0, 900.0, 0], [0, 0, 1]])
    camera = Camera("cam", (512, 512), K, np.zeros(5), np.eye(3), np.zeros(3))
    turn = camera.ray_rotation(square_crop(np.asarray(detection.box, np.float64))[0])
    assert np.degrees(np.arccos(turn[2, 2])) > 15

    (plain,) = BlazePoseWorld().predict([image], [detection])
    (turned,) = BlazePoseWorld().predict([image], [detection], [camera])
    np.testing.assert_allclose(turned.hypotheses[0], plain.hypotheses[0] @ turn.T, atol=1e-9)

    (fit,) = build_methods(("fit",))
    fit.body = sampler.body
    (camera_fit,) = fit.predict([image], [detection], [camera])
    # The fit with the camera is a body near the world landmarks, turned as they are.
    body = camera_fit.hypotheses[:, :8]
    assert pa_mpjpe(body, turned.hypotheses[:, :8])[0] < 75.0
    gap = {name: np.linalg.norm(body[0] - world[0, :8], axis=-1).mean()
           for name, world in (("turned", turned.hypotheses), ("plain", plain.hypotheses))}
    assert gap["turned"] < gap["plain"], gap


def test_unknown_method_names_are_refused():
    with pytest.raises(DataError, match="unknown method"):
        build_methods(("blazepose_world", "magic"))
