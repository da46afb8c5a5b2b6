"""The one sampling entry point: protocols, chunking, consensus, a stand-in model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from skimage import data

from engine.errors import ShapeError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import ParamLayout
from engine.models.protocols import Sampler, Scorer
from engine.models.sample_and_score import crop_person, sample_and_score, sample_person
from engine.models.sample_settings import SampleSettings
from engine.models.scorer import HMRScorer, ScorerConfig

TINY = {"crop_size": 64, "width": 32, "layers": 1, "heads": 2}
BOX = np.array([120.0, 30.0, 460.0, 510.0], np.float32)


def keypoints_in(box: np.ndarray) -> np.ndarray:
    """(17, 3) keypoints spread over the box, all confident."""
    x0, y0, x1, y1 = box
    u = np.linspace(0.2, 0.8, 17)
    return np.stack([x0 + u * (x1 - x0), y0 + u[::-1] * (y1 - y0), np.ones(17)], 1).astype(np.float32)


@pytest.fixture(scope="module")
def models(body):
    torch.manual_seed(0)
    model = DiffusionHMR(TINY, body=body).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4)).eval()
    scorer.consensus_weight = 1.0
    return model, scorer


def test_the_built_in_models_are_a_sampler_and_a_scorer(models):
    model, scorer = models
    assert isinstance(model, Sampler) and isinstance(scorer, Scorer)
    assert not isinstance(scorer, Sampler)


def test_chunking_never_changes_a_result_and_consensus_only_moves_scores(models, body):
    model, scorer = models
    image = data.astronaut()
    settings = SampleSettings(num_candidates=7, seed=2)
    _, whole = sample_person(image, BOX, keypoints_in(BOX), model, body, settings, scorer)
    _, chunked = sample_person(image, BOX, keypoints_in(BOX), model, body, replace(settings, chunk_size=3), scorer)
    assert whole.params.shape == (1, 7, 157) and whole.candidates.vertices.shape[:2] == (1, 7)
    torch.testing.assert_close(chunked.params, whole.params)
    # Bodies decoded 3 or 7 at a time round differently in the last bit (GEMM blocking,
    # e.g. under MKL_CBWR=COMPATIBLE), and this scorer's consensus weight of 1 logit per
    # mm turns 1e-4 mm into 1e-5 of score: equal to rounding, not bit for bit.
    torch.testing.assert_close(chunked.scores, whole.scores, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(chunked.candidates.vertices, whole.candidates.vertices)
    torch.testing.assert_close(whole.candidates.scores, whole.scores)
    _, alone = sample_person(image, BOX, keypoints_in(BOX), model, body, replace(settings, consensus=False), scorer)
    torch.testing.assert_close(alone.logits, whole.logits)
    torch.testing.assert_close(alone.scores, scorer.scores_from_logits(whole.logits))
    assert not torch.allclose(alone.scores, whole.scores)


def test_meshes_can_be_measured_chunk_by_chunk_without_being_kept(models, body):
    model, scorer = models
    _, crops = crop_person(data.astronaut(), BOX, keypoints_in(BOX), model.crop_size)
    seen = []
    out = sample_and_score(model, body, crops, SampleSettings(num_candidates=5, chunk_size=2), scorer,
                           keep_candidates=False, on_chunk=lambda c: seen.append(c.vertices.shape[1]))
    assert out.candidates is None and seen == [2, 2, 1] and out.scores.shape == (1, 5)


class MeanSampler:
    """A stand-in sampler: every hypothesis is one fixed vector (a researcher's model)."""

    layout = ParamLayout()
    crop_size = 32
    device = torch.device("cpu")

    def __init__(self, vector: torch.Tensor) -> None:
        self.vector = vector

    def sample(self, images, keypoints, num_hypotheses, steps=4, eta=0.0, seed=0, chunk_size=2048):
        assert images.shape[1:] == (3, 32, 32)
        return self.vector.expand(images.shape[0], num_hypotheses, -1).clone()


class CountingScorer:
    """A stand-in scorer: prefers the candidate whose pelvis sits highest in the crop."""

    crop_size = 16
    device = torch.device("cpu")

    def candidate_logits(self, images, keypoints, candidates):
        assert images.shape[1:] == (3, 16, 16)
        return -candidates.joints_crop[..., 0, 1]

    def scores_from_logits(self, logits, sibling_mm=None):
        return torch.sigmoid(logits)


def test_any_sampler_and_scorer_that_keep_the_protocols_plug_in(models, body):
    vector = models[0].sample(torch.zeros(1, 3, 64, 64), torch.zeros(1, 17, 3), 1)[0, 0]
    sampler, scorer = MeanSampler(vector), CountingScorer()
    assert isinstance(sampler, Sampler) and isinstance(scorer, Scorer)
    _, out = sample_person(data.astronaut(), BOX, keypoints_in(BOX), sampler, body,
                           SampleSettings(num_candidates=3), scorer)
    assert out.params.shape == (1, 3, 157) and torch.equal(out.params[0, 1], vector)
    assert out.scores.shape == (1, 3) and torch.allclose(out.scores, out.scores[:, :1])


def test_samples_started_from_the_fit_stay_near_it_the_nearer_the_lower_the_level(body):
    model = DiffusionHMR.load(body=body)  # the bundled weights: a random net denoises nowhere in particular
    image, keypoints = data.astronaut(), keypoints_in(BOX)
    # Without a fit given, the default start level changes nothing: from pure noise.
    _, free = sample_person(image, BOX, keypoints, model, body, SampleSettings(num_candidates=6, orient=False))
    # Any estimate in the crop's layout stands in for the fit: here a sample of another seed.
    _, other = sample_person(image, BOX, keypoints, model, body, SampleSettings(num_candidates=4, seed=9, orient=False))
    fit = other.params[:, 3].clone()
    spread = []
    for level in (0.02, 0.1, 0.5):
        settings = SampleSettings(num_candidates=6, orient=False, fit_start=level)
        _, started = sample_person(image, BOX, keypoints, model, body, settings, start_params=fit)
        moved = model.normalizer.normalize(started.params[0]) - model.normalizer.normalize(fit)
        spread.append(float(moved.norm(dim=-1).mean()))
    assert spread[0] < spread[1] < spread[2]
    # Unused at level 0.
    _, off = sample_person(image, BOX, keypoints, model, body,
                           SampleSettings(num_candidates=6, orient=False, fit_start=0.0), start_params=fit)
    torch.testing.assert_close(off.params, free.params)
    # A plug-in sampler that cannot start from an estimate samples as it always does.
    _, plugin = sample_person(image, BOX, keypoints, MeanSampler(fit[0] + 1), body, SampleSettings(fit_start=0.2),
                              start_params=fit)
    assert torch.equal(plugin.params[0, 0], fit[0] + 1)
    with pytest.raises(ShapeError, match="start"):
        sample_person(image, BOX, keypoints, model, body, SampleSettings(fit_start=0.2), start_params=fit[:, :9])


def test_settings_out_of_range_are_refused():
    for bad in (dict(num_candidates=0), dict(steps=0), dict(eta=-1.0), dict(precision="fp16"), dict(chunk_size=0),
                dict(fit_start=-0.1), dict(fit_start=1.5)):
        with pytest.raises(ShapeError):
            SampleSettings(**bad)
