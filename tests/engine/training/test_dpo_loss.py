"""The Diffusion-DPO loss on hand-computed numbers, its gradient, the implicit accuracy,
and winner and loser sharing one timestep and one noise draw."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import Normalizer
from engine.training.dpo import dpo_loss, interleave, pair_errors, pair_timesteps

D = 157


def _t(*v: float) -> torch.Tensor:
    return torch.tensor(v, dtype=torch.float64)


def test_equal_errors_cost_log_2_and_prefer_nothing():
    e = _t(0.3, 0.7)
    loss, stats = dpo_loss(e, e, e, e, beta=100.0)
    assert float(loss) == pytest.approx(math.log(2), abs=1e-12)
    assert float(stats["implicit_acc"]) == 0.0 and float(stats["reward_margin"]) == 0.0


def test_the_loss_on_hand_computed_numbers():
    # Winner error rose 0.02 over the reference, loser error fell 0.01: logit -50 * 0.03 = -1.5.
    loss, stats = dpo_loss(_t(0.52), _t(0.29), _t(0.50), _t(0.30), beta=100.0)
    assert float(loss) == pytest.approx(math.log1p(math.exp(1.5)), rel=1e-9)
    assert float(stats["reward_margin"]) == pytest.approx(-1.5)
    assert float(stats["reward_winner"]) == pytest.approx(-1.0) and float(stats["reward_loser"]) == pytest.approx(0.5)
    # Winner improved by 0.01, loser unchanged: logit 0.5, loss below log 2.
    loss, stats = dpo_loss(_t(0.49), _t(0.30), _t(0.50), _t(0.30), beta=100.0)
    assert float(loss) == pytest.approx(math.log1p(math.exp(-0.5)), rel=1e-9) and float(loss) < math.log(2)
    assert float(stats["implicit_acc"]) == 1.0


def test_the_gradient_lowers_the_winner_error_and_raises_the_loser_error():
    err_w, err_l = _t(0.4, 0.6).requires_grad_(), _t(0.5, 0.5).requires_grad_()
    loss, _ = dpo_loss(err_w, err_l, _t(0.45, 0.55), _t(0.5, 0.5), beta=100.0)
    loss.backward()
    assert (err_w.grad > 0).all() and (err_l.grad < 0).all()
    # Descending the gradient widens the gap in the winner's favour.
    assert torch.allclose(err_w.grad, -err_l.grad)


def test_implicit_accuracy_counts_pairs_the_policy_prefers_more_than_the_reference():
    ref = _t(0.5, 0.5, 0.5)
    # Logits: +0.5 (winner better), -0.5 (loser better), 0 (a tie counts as not preferred).
    err_w, err_l = _t(0.49, 0.51, 0.5), _t(0.5, 0.5, 0.5)
    _, stats = dpo_loss(err_w, err_l, ref, ref, beta=100.0)
    assert float(stats["implicit_acc"]) == pytest.approx(1 / 3)
    assert float(stats["reward_margin"]) == pytest.approx(0.0, abs=1e-9)


def test_antithetic_timesteps_mirror_each_other():
    torch.manual_seed(0)
    t = pair_timesteps(7, 1000, antithetic=True)
    assert t.dtype == torch.long and t.shape == (7,)
    assert torch.equal(t[3:6], 999 - t[:3]) and 0 <= int(t[6]) < 1000
    assert pair_timesteps(5, 10).max() < 10


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = DiffusionHMR(dict(crop_size=64, width=32, layers=1, heads=2, encoder_channels=[8, 16, 16, 16]),
                     Normalizer(np.zeros(D, np.float32), np.ones(D, np.float32)))
    return m.eval()


def _batch(B: int = 3) -> dict:
    g = torch.Generator().manual_seed(1)
    return {"image": torch.randn(B, 3, 64, 64, generator=g), "keypoints": torch.rand(B, 17, 3, generator=g),
            "winner": torch.randn(B, D, generator=g), "loser": torch.randn(B, D, generator=g)}


def test_winner_and_loser_share_the_timestep_and_the_noise(model):
    batch = _batch()
    t, noise = torch.tensor([5, 500, 990]), torch.randn(3, D, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        err_w, err_l = pair_errors(model, batch, t, noise)
        cond = model.encode(batch["image"], batch["keypoints"])
        alone_w = model.denoise_error(batch["winner"], t, noise, cond)
        alone_l = model.denoise_error(batch["loser"], t, noise, cond)
        # The same candidate on both sides: the very same error, so the pair is a tie.
        same = dict(batch, loser=batch["winner"])
        tie_w, tie_l = pair_errors(model, same, t, noise)
    torch.testing.assert_close(err_w, alone_w, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(err_l, alone_l, rtol=1e-5, atol=1e-6)
    assert torch.equal(tie_w, tie_l)


def test_interleave_keeps_each_persons_rows_together():
    a, b = torch.tensor([[1.0], [2.0]]), torch.tensor([[10.0], [20.0]])
    assert interleave(a, b).flatten().tolist() == [1.0, 10.0, 2.0, 20.0]
