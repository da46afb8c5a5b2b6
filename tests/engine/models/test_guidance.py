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
