"""The diffusion HMR model's API: shapes, the zero-noise hypothesis, chunking, bad input."""

from __future__ import annotations

import pytest
import torch

from engine.errors import ShapeError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.encoder import Condition

TINY = {"crop_size": 64, "width": 32, "layers": 2, "heads": 2}
D = 157


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = DiffusionHMR(TINY).eval()
    # Untrained outputs are zero by construction (zero-initialised heads and gates);
    # give every weight a random value so the tests see a network that does something.
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return m


@pytest.fixture(scope="module")
def inputs():
    g = torch.Generator().manual_seed(1)
    images = torch.randn(3, 3, 64, 64, generator=g)
    keypoints = torch.rand(3, 17, 3, generator=g) * 2 - 1
    keypoints[..., 2] = keypoints[..., 2].abs()
    return images, keypoints


def test_shapes_of_every_call(model, inputs):
    images, keypoints = inputs
    cond = model.encode(images, keypoints)
    assert isinstance(cond, Condition)
    assert cond.tokens.shape == (3, 4 * 4 + 17, 32) and cond.pooled.shape == (3, 32)
    x_t = torch.randn(3, D)
    t = torch.tensor([0, 500, 999])
    assert model.predict_eps(x_t, t, cond).shape == (3, D)
    assert model.predict_x0(x_t, t, cond).shape == (3, D)
    err = model.denoise_error(torch.randn(3, D), t, torch.randn(3, D), cond)
    assert err.shape == (3,) and (err >= 0).all()
    assert model.sample(images, keypoints, num_hypotheses=5).shape == (3, 5, D)


def test_eps_and_x0_estimates_agree_with_the_forward_process(model, inputs):
    cond = model.encode(*inputs)
    x_t = torch.randn(3, D, dtype=torch.float64).float()
    t = torch.tensor([10, 400, 990])
    eps, x0 = model.predict_eps(x_t, t, cond), model.predict_x0(x_t, t, cond)
    assert torch.allclose(model.schedule.q_sample(x0, t, eps).float(), x_t, atol=1e-4)


def test_one_encoding_serves_many_hypotheses(model, inputs):
    """A condition of batch B drives B x M rows exactly like the repeated condition."""
    cond = model.encode(*inputs)
    x_t = torch.randn(3 * 4, D)
    t = torch.full((12,), 600)
    grouped = model.predict_eps(x_t, t, cond)
    repeated = model.predict_eps(x_t, t, cond.repeat_interleave(4))
    assert torch.allclose(grouped, repeated, atol=1e-5)
    picked = cond.index_select(torch.tensor([2, 0]))
    assert torch.equal(picked.tokens[0], cond.tokens[2]) and torch.equal(picked.pooled[1], cond.pooled[0])


def test_hypothesis_zero_is_the_same_for_every_seed_and_the_others_are_not(model, inputs):
    a = model.sample(*inputs, num_hypotheses=4, seed=0)
    b = model.sample(*inputs, num_hypotheses=4, seed=1)
    assert torch.equal(a[:, 0], b[:, 0])
    assert (a[:, 1:] - b[:, 1:]).abs().amax(dim=-1).min() > 1e-3
    assert torch.equal(a, model.sample(*inputs, num_hypotheses=4, seed=0))
    # Hypotheses of one person differ from each other.
    assert (a[:, 1] - a[:, 2]).abs().amax(dim=-1).min() > 1e-3


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 100])
def test_chunked_sampling_equals_one_batch(model, inputs, chunk_size):
    full = model.sample(*inputs, num_hypotheses=5, seed=3, chunk_size=4096)
    chunked = model.sample(*inputs, num_hypotheses=5, seed=3, chunk_size=chunk_size)
    assert torch.allclose(full, chunked, atol=1e-4)


def test_eta_adds_noise_but_keeps_hypothesis_zero_deterministic(model, inputs):
    a = model.sample(*inputs, num_hypotheses=3, seed=0, eta=1.0)
    b = model.sample(*inputs, num_hypotheses=3, seed=5, eta=1.0)
    assert torch.equal(a[:, 0], b[:, 0])
    assert not torch.allclose(a, model.sample(*inputs, num_hypotheses=3, seed=0, eta=0.0), atol=1e-3)


def test_missing_keypoints_do_not_depend_on_their_coordinates(model, inputs):
    images, keypoints = inputs
    kp = keypoints.clone()
    kp[:, 3:6, 2] = 0
    other = kp.clone()
    other[:, 3:6, :2] = 5.0
    a, b = model.encode(images, kp), model.encode(images, other)
    assert torch.allclose(a.tokens, b.tokens) and torch.allclose(a.pooled, b.pooled)
    seen = kp.clone()
    seen[:, 3:6, 2] = 1
    assert not torch.allclose(model.encode(images, seen).tokens, a.tokens)


def test_bad_inputs_raise_shape_errors(model, inputs):
    images, keypoints = inputs
    with pytest.raises(ShapeError, match="num_hypotheses"):
        model.sample(images, keypoints, num_hypotheses=0)
    nan_images = images.clone()
    nan_images[0, 0, 0, 0] = float("nan")
    with pytest.raises(ShapeError, match="NaN"):
        model.sample(nan_images, keypoints, 2)
    nan_kp = keypoints.clone()
    nan_kp[1, 4, 0] = float("nan")
    with pytest.raises(ShapeError, match="NaN"):
        model.sample(images, nan_kp, 2)
    with pytest.raises(ShapeError, match=r"\(B, 3, 64, 64\)"):
        model.sample(torch.zeros(1, 3, 128, 128), keypoints[:1], 2)
    with pytest.raises(ShapeError, match="keypoints"):
        model.sample(images, keypoints[:, :12], 2)
    with pytest.raises(ShapeError, match="divide"):
        model.predict_eps(torch.zeros(4, D), torch.zeros(4, dtype=torch.long), model.encode(images, keypoints))
