"""Guided sampling: candidates move onto the detected keypoints; scale 0 is the old sampler."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from skimage import data

from engine.errors import ShapeError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import ParamLayout
from engine.models.sample_and_score import crop_person, sample_and_score
from engine.models.sample_settings import SampleSettings

BOX = np.array([120.0, 30.0, 460.0, 510.0], np.float32)


@pytest.fixture(scope="module")
def model(body):
    return DiffusionHMR.load(body=body)


@pytest.fixture(scope="module")
def crops(model, body):
    """The astronaut's crop with the keypoints of a body the model does not draw unguided:
    hypothesis 0 of another photo's run, moved a tenth of a crop right (normalised crop
    coordinates, all confident)."""
    image = data.astronaut()
    _, crops = crop_person(image, BOX, np.zeros((17, 3), np.float32), model.crop_size)
    other = sample_and_score(model, body, replace(crops, images=crops.images.flip(-1)),
                             SampleSettings(num_candidates=1, seed=4))
    target = other.candidates.keypoints_crop[0, :1] + torch.tensor([0.1, 0.0])
    return replace(crops, keypoints=torch.cat([target, torch.ones(1, 17, 1)], -1))


def reprojection_px(result, crops) -> float:
    """Mean distance of the candidates' keypoints to the detected ones, pixels of a 224 crop."""
    return float((result.candidates.keypoints_crop - crops.keypoints[:, None, :, :2]).norm(dim=-1).mean() * 112)


def test_guidance_pulls_the_candidates_onto_the_keypoints(model, body, crops):
    settings = SampleSettings(num_candidates=6, seed=1)
    free = sample_and_score(model, body, crops, settings)
    guided = sample_and_score(model, body, crops, replace(settings, guidance_scale=5.0))
    assert reprojection_px(guided, crops) < 0.8 * reprojection_px(free, crops)
    # Guided runs are still seeded: the same settings give the same candidates.
    again = sample_and_score(model, body, crops, replace(settings, guidance_scale=5.0))
    torch.testing.assert_close(again.params, guided.params)


def test_scale_zero_is_the_unguided_sampler_exactly(model, body, crops):
    settings = SampleSettings(num_candidates=4, seed=3, guidance_scale=0.0)
    out = sample_and_score(model, body, crops, settings)
    direct = model.sample(crops.images, crops.keypoints, 4, steps=settings.steps, seed=3)
    assert torch.equal(out.params, direct)


def test_chunking_does_not_change_a_guided_run(model, body, crops):
    settings = SampleSettings(num_candidates=5, seed=2, guidance_scale=2.0)
    whole = sample_and_score(model, body, crops, settings)
    chunked = sample_and_score(model, body, crops, replace(settings, chunk_size=2))
    torch.testing.assert_close(chunked.params, whole.params)


class UnguidedSampler:
    """A plug-in sampler whose sample() knows nothing of guidance."""

    layout = ParamLayout()
    crop_size = 96
    device = torch.device("cpu")

    def sample(self, images, keypoints, num_hypotheses, steps=4, eta=0.0, seed=0, chunk_size=2048):
        return torch.zeros(images.shape[0], num_hypotheses, self.layout.dim)


def test_a_sampler_that_cannot_be_guided_is_refused_and_a_negative_scale_too(body, crops):
    with pytest.raises(ShapeError, match="UnguidedSampler cannot be guided"):
        sample_and_score(UnguidedSampler(), body, crops, SampleSettings(num_candidates=2, guidance_scale=1.0))
    out = sample_and_score(UnguidedSampler(), body, crops, SampleSettings(num_candidates=2))
    assert out.params.shape == (1, 2, 157)
    with pytest.raises(ShapeError, match="guidance_scale must be >= 0"):
        SampleSettings(guidance_scale=-1.0)


def _bone_angle_deg(points: torch.Tensor, target: torch.Tensor) -> float:
    """Mean angle between the candidates' limb bones (N, M, 17, 3) and a target's (17, 3)."""
    from engine.body.bones import bone_directions

    ours = bone_directions(points.reshape(-1, 17, 3))
    theirs = bone_directions(target[None])
    return float(torch.rad2deg(torch.acos((ours * theirs).sum(-1).clamp(-1, 1))).mean())


def test_world_landmarks_turn_guided_bodies_towards_their_bones(model, body, crops):
    """With no 2D keypoint to follow (all confidences 0), only the world term can move the
    candidates: towards landmarks of a body turned 70 degrees about its vertical axis."""
    from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
    from engine.detect.keypoints import BLAZEPOSE_TO_COCO17

    base = sample_and_score(model, body, crops, SampleSettings(num_candidates=1, seed=4))
    turn = torch.tensor(np.array([[np.cos(1.22), 0, np.sin(1.22)], [0, 1, 0], [-np.sin(1.22), 0, np.cos(1.22)]]),
                        dtype=torch.float32)
    target = base.candidates.keypoints3d[0, 0] @ turn.T
    tokens = torch.zeros(1, NUM_LANDMARKS, TOKEN_DIM)
    tokens[0, list(BLAZEPOSE_TO_COCO17), :3] = target
    tokens[0, :, 3:] = 1.0
    blind = replace(crops, keypoints=torch.zeros(1, 17, 3), landmarks=tokens)
    settings = SampleSettings(num_candidates=4, seed=1, guidance_scale=5.0)
    two_d_only = sample_and_score(model, body, blind, replace(settings, guidance_world=0.0))
    with_world = sample_and_score(model, body, blind, replace(settings, guidance_world=1.0))
    before = _bone_angle_deg(two_d_only.candidates.keypoints3d, target)
    after = _bone_angle_deg(with_world.candidates.keypoints3d, target)
    assert after < 0.7 * before


def test_a_negative_world_weight_is_refused():
    with pytest.raises(ShapeError, match="guidance_world must be >= 0"):
        SampleSettings(guidance_world=-0.5)
