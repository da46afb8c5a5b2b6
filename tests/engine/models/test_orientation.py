"""Candidates turned to face as the detector's world landmarks do."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
from engine.detect.keypoints import BLAZEPOSE_TO_COCO17
from engine.errors import ShapeError
from engine.body.projection import project_weak_perspective
from engine.models.candidates import decode_candidates
from engine.models.orientation import best_rotation, orient_candidates
from engine.models.param_layout import ParamLayout

LAYOUT = ParamLayout()


def _yaw(deg: float) -> torch.Tensor:
    a = np.radians(deg)
    return torch.tensor([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]], dtype=torch.float32)


def _tokens(points: torch.Tensor) -> torch.Tensor:
    """(17, 3) COCO points -> (1, 33, 6) tokens holding them, all visible and found."""
    tokens = torch.zeros(1, NUM_LANDMARKS, TOKEN_DIM)
    tokens[0, list(BLAZEPOSE_TO_COCO17), :3] = points
    tokens[0, :, 3:] = 1.0
    return tokens


@pytest.fixture(scope="module")
def candidate(body):
    """One posed body facing the camera, arms and legs bent, and its outputs."""
    gen = torch.Generator().manual_seed(3)
    pose = torch.randn(1, 72, generator=gen) * 0.25
    pose[0, :3] = torch.tensor([np.pi, 0.0, 0.0])
    params = LAYOUT.from_axis_angle(pose, torch.zeros(1, 10), torch.tensor([[0.9, 0.02, 0.1]]))
    rot, betas, cam = LAYOUT.split(params)
    out = body(rot, betas, cam, return_vertices=False)
    return params[None], out


def test_best_rotation_recovers_a_rotation_and_ignores_weightless_points():
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(2, 12, 3, generator=gen)
    R = _yaw(130.0) @ torch.tensor([[1, 0, 0], [0, 0.8, -0.6], [0, 0.6, 0.8]])
    q = p @ R.T
    w = torch.ones(2, 12)
    q[1, 0] += 50.0  # an outlier ...
    w[1, 0] = 0.0  # ... with no weight
    torch.testing.assert_close(best_rotation(p, q, w), R.expand(2, 3, 3), atol=1e-4, rtol=0)
    torch.testing.assert_close(best_rotation(p, q, torch.zeros(2, 12)), torch.eye(3).expand(2, 3, 3))


CENTRE, SIZE = torch.tensor([[320.0, 240.0]]), torch.tensor([400.0])


def _decode(body, params):
    return decode_candidates(params, LAYOUT, body, CENTRE, SIZE)


def _seen(out) -> torch.Tensor:
    """(1, 17, 3) the body's own 2D keypoints, all seen: what a detector would report."""
    return torch.cat([out.keypoints_2d, torch.ones(1, 17, 1)], -1)


def test_a_candidate_is_turned_onto_landmarks_of_the_same_pose_seen_from_behind(body, candidate):
    params, out = candidate
    turned_points = out.keypoints[0] @ _yaw(150.0).T  # the same body, turned half round
    turned = orient_candidates(_decode(body, params), _tokens(turned_points), _seen(out), LAYOUT, CENTRE, SIZE)

    def centred(x):
        return x - x[:, [11, 12]].mean(1, keepdim=True)

    error_mm = (centred(turned.keypoints3d[0]) - centred(turned_points[None])).norm(dim=-1).mean() * 1000
    assert error_mm < 1.0
    # Only the root turns: the articulated pose and the shape are the candidate's own.
    rs = LAYOUT.rot_size
    torch.testing.assert_close(turned.params[0, 0, 6:rs + 10], params[0, 0, 6:rs + 10])


def test_turned_meshes_are_what_the_body_model_gives_for_the_turned_parameters(body, candidate):
    params, out = candidate
    landmarks = _tokens(out.keypoints[0] @ _yaw(-110.0).T)
    turned = orient_candidates(_decode(body, params), landmarks, _seen(out), LAYOUT, CENTRE, SIZE)
    again = _decode(body, turned.params)
    for name in ("vertices", "joints", "keypoints3d", "joints_crop", "keypoints_crop", "joints_px", "pose_aa"):
        torch.testing.assert_close(getattr(turned, name), getattr(again, name), atol=2e-5, rtol=1e-4, msg=name)
    torch.testing.assert_close(turned.keypoints_px, again.keypoints_px, atol=5e-3, rtol=0)


def test_the_camera_is_refitted_so_the_turned_body_stays_on_the_keypoints(body, candidate):
    params, out = candidate
    # Landmarks turned 40 degrees: the turned body projects differently; the re-fitted
    # camera keeps it on the person, as well as a weak-perspective camera can.
    landmarks = _tokens(out.keypoints[0] @ _yaw(40.0).T)
    turned = orient_candidates(_decode(body, params), landmarks, _seen(out), LAYOUT, CENTRE, SIZE)
    old_cam = project_weak_perspective(turned.keypoints3d[0], LAYOUT.split(params[:, 0])[2])
    refit = (turned.keypoints_crop[0] - out.keypoints_2d).norm(dim=-1).mean()
    kept = (old_cam - out.keypoints_2d).norm(dim=-1).mean()
    assert refit < 0.8 * kept


def test_a_person_without_landmarks_or_keypoints_keeps_the_candidates_as_sampled(body, candidate):
    params, out = candidate
    cands = _decode(body, params)
    missing = torch.zeros(1, NUM_LANDMARKS, TOKEN_DIM)
    landmarks = _tokens(out.keypoints[0] @ _yaw(90.0).T)
    for turned in (orient_candidates(cands, missing, _seen(out), LAYOUT, CENTRE, SIZE),
                   orient_candidates(cands, landmarks, torch.zeros(1, 17, 3), LAYOUT, CENTRE, SIZE)):
        assert torch.equal(turned.params, cands.params) and torch.equal(turned.vertices, cands.vertices)


def test_inputs_of_the_wrong_shape_are_refused(body, candidate):
    params, out = candidate
    with pytest.raises(ShapeError, match="landmarks"):
        orient_candidates(_decode(body, params), torch.zeros(1, 17, 6), torch.zeros(1, 17, 3), LAYOUT, CENTRE, SIZE)


def test_sampling_orients_by_default_and_not_when_asked(body, candidate):
    from dataclasses import replace

    from skimage import data

    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.sample_and_score import crop_person, sample_and_score
    from engine.models.sample_settings import SampleSettings

    model = DiffusionHMR.load(body=body)
    params, out = candidate
    box = np.array([120.0, 30.0, 460.0, 510.0], np.float32)
    _, crops = crop_person(data.astronaut(), box, np.zeros((17, 3), np.float32), model.crop_size)
    crops = replace(crops, keypoints=torch.cat([out.keypoints_2d, torch.ones(1, 17, 1)], -1),
                    landmarks=_tokens(out.keypoints[0] @ _yaw(160.0).T))
    as_sampled = sample_and_score(model, body, crops, SampleSettings(num_candidates=3, seed=2, orient=False))
    oriented = sample_and_score(model, body, crops, SampleSettings(num_candidates=3, seed=2))
    direct = model.sample(crops.images, crops.keypoints, 3, seed=2, landmarks=crops.landmarks)
    assert torch.equal(as_sampled.params, direct)
    rs = LAYOUT.rot_size
    # Only the root rotation and the camera change.
    torch.testing.assert_close(oriented.params[..., 6:rs + 10], as_sampled.params[..., 6:rs + 10])
    assert (oriented.params[..., :6] - as_sampled.params[..., :6]).abs().max() > 0.1


def test_the_fits_extra_candidates_are_not_turned_whatever_the_chunks(body, candidate):
    from dataclasses import replace

    from skimage import data

    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.sample_and_score import crop_person, sample_and_score
    from engine.models.sample_settings import SampleSettings

    model = DiffusionHMR.load(body=body)
    params, out = candidate
    box = np.array([120.0, 30.0, 460.0, 510.0], np.float32)
    _, crops = crop_person(data.astronaut(), box, np.zeros((17, 3), np.float32), model.crop_size)
    crops = replace(crops, keypoints=_seen(out), landmarks=_tokens(out.keypoints[0] @ _yaw(120.0).T))
    extra = torch.cat([params, params], dim=1)
    whole = sample_and_score(model, body, crops, SampleSettings(num_candidates=3, seed=1), extra_params=extra)
    # Chunks of two hypotheses: the second holds one sampled and one extra candidate.
    chunked = sample_and_score(model, body, crops, SampleSettings(num_candidates=3, seed=1, chunk_size=2),
                               extra_params=extra)
    assert torch.equal(whole.params[:, 3:], extra)
    torch.testing.assert_close(chunked.params, whole.params)
    torch.testing.assert_close(chunked.candidates.vertices, whole.candidates.vertices)
    assert (whole.params[:, :3, :6] - model.sample(crops.images, crops.keypoints, 3, seed=1,
                                                   landmarks=crops.landmarks)[..., :6]).abs().max() > 0.1
