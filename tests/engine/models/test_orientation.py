"""Candidates turned to face as the detector's world landmarks do."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
from engine.detect.keypoints import BLAZEPOSE_TO_COCO17
from engine.errors import ShapeError
from engine.models.orientation import best_rotation, orient_to_landmarks
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


def test_a_candidate_is_turned_onto_landmarks_of_the_same_pose_seen_from_behind(body, candidate):
    params, out = candidate
    turned_points = out.keypoints[0] @ _yaw(150.0).T  # the same body, turned half round
    turned = orient_to_landmarks(params, _tokens(turned_points), torch.cat(
        [out.keypoints_2d, torch.ones(1, 17, 1)], -1), body, LAYOUT)
    rot, betas, cam = LAYOUT.split(turned[:, 0])
    new = body(rot, betas, cam, return_vertices=False)

    def centred(x):
        return x - x[:, [11, 12]].mean(1, keepdim=True)

    error_mm = (centred(new.keypoints) - centred(turned_points[None])).norm(dim=-1).mean() * 1000
    assert error_mm < 1.0
    # Only the root turns: the articulated pose and the shape are the candidate's own.
    torch.testing.assert_close(turned[0, 0, 6:LAYOUT.rot_size], params[0, 0, 6:LAYOUT.rot_size])
    torch.testing.assert_close(turned[0, 0, LAYOUT.rot_size:LAYOUT.rot_size + 10], params[0, 0, LAYOUT.rot_size:LAYOUT.rot_size + 10])


def test_the_camera_is_refitted_so_the_turned_body_stays_on_the_keypoints(body, candidate):
    params, out = candidate
    target2d = torch.cat([out.keypoints_2d, torch.ones(1, 17, 1)], -1)
    # Landmarks turned 40 degrees: the turned body projects differently; the re-fitted
    # camera keeps it on the person, as well as a weak-perspective camera can.
    landmarks = _tokens(out.keypoints[0] @ _yaw(40.0).T)
    turned = orient_to_landmarks(params, landmarks, target2d, body, LAYOUT)
    rot, betas, cam = LAYOUT.split(turned[:, 0])
    new_2d = body(rot, betas, cam, return_vertices=False).keypoints_2d
    rot0, betas0, _ = LAYOUT.split(turned[:, 0])
    old_cam = body(rot0, betas0, LAYOUT.split(params[:, 0])[2], return_vertices=False).keypoints_2d
    refit = (new_2d - out.keypoints_2d).norm(dim=-1).mean()
    kept = (old_cam - out.keypoints_2d).norm(dim=-1).mean()
    assert refit < 0.8 * kept


def test_a_person_without_landmarks_or_keypoints_keeps_the_candidates_as_sampled(body, candidate):
    params, out = candidate
    kp = torch.cat([out.keypoints_2d, torch.ones(1, 17, 1)], -1)
    missing = torch.zeros(1, NUM_LANDMARKS, TOKEN_DIM)
    torch.testing.assert_close(orient_to_landmarks(params, missing, kp, body, LAYOUT), params)
    landmarks = _tokens(out.keypoints[0] @ _yaw(90.0).T)
    torch.testing.assert_close(orient_to_landmarks(params, landmarks, torch.zeros(1, 17, 3), body, LAYOUT), params)


def test_inputs_of_the_wrong_shape_are_refused(body, candidate):
    params, out = candidate
    with pytest.raises(ShapeError, match="landmarks"):
        orient_to_landmarks(params, torch.zeros(1, 17, 6), torch.zeros(1, 17, 3), body, LAYOUT)
    with pytest.raises(ShapeError, match="params"):
        orient_to_landmarks(params[0], torch.zeros(1, 33, 6), torch.zeros(1, 17, 3), body, LAYOUT)


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
