import pytest
import torch

from engine.diffusion.schedule import NoiseSchedule, linear_schedule
from engine.errors import ShapeError


def test_linear_schedule_matches_ddpm():
    schedule = linear_schedule()

    assert schedule.num_timesteps == 1000
    assert schedule.betas.dtype == torch.float64 and schedule.alphas_cumprod.dtype == torch.float64
    assert schedule.betas[0].item() == pytest.approx(1e-4)
    assert schedule.betas[-1].item() == pytest.approx(0.02)
    assert schedule.alphas_cumprod[0].item() == pytest.approx(1 - 1e-4)
    assert schedule.alphas_cumprod[-1].item() == pytest.approx(4.036e-5, rel=1e-3)
    assert bool((schedule.alphas_cumprod.diff() < 0).all())


def test_q_sample_statistics():
    schedule = linear_schedule()
    n = 200_000
    x0 = torch.full((n, 2), 1.5)
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(n, 2, generator=generator)

    for step in (0, 250, 999):
        t = torch.full((n,), step, dtype=torch.long)
        x_t = schedule.q_sample(x0, t, noise)
        a = schedule.alphas_cumprod[step].item()
        assert x_t.dtype == torch.float32
        assert x_t.mean().item() == pytest.approx(1.5 * a**0.5, abs=0.01)
        assert x_t.std().item() == pytest.approx((1 - a) ** 0.5, rel=0.01)


def test_predict_x0_and_eps_invert_q_sample():
    schedule = linear_schedule()
    generator = torch.Generator().manual_seed(1)
    x0 = torch.randn(6, 5, generator=generator, dtype=torch.float64)
    eps = torch.randn(6, 5, generator=generator, dtype=torch.float64)
    t = torch.tensor([0, 1, 100, 500, 998, 999])

    x_t = schedule.q_sample(x0, t, eps)

    assert torch.allclose(schedule.predict_x0(x_t, t, eps), x0, atol=1e-10)
    assert torch.allclose(schedule.predict_eps(x_t, t, x0), eps, atol=1e-10)


def test_snr_decreases_from_about_ten_thousand():
    schedule = linear_schedule()
    snr = schedule.snr(torch.arange(1000))

    assert snr[0].item() == pytest.approx((1 - 1e-4) / 1e-4)
    assert bool((snr.diff() < 0).all())
    assert snr.dtype == torch.float64


def test_to_returns_a_copy_on_the_device():
    schedule = linear_schedule(T=10)
    moved = schedule.to("cpu")

    assert isinstance(moved, NoiseSchedule) and moved is not schedule
    assert moved.device == torch.device("cpu")
    assert torch.equal(moved.alphas_cumprod, schedule.alphas_cumprod)


def test_bad_timesteps_and_schedules_are_rejected():
    schedule = linear_schedule(T=10)
    x = torch.zeros(2, 3)

    with pytest.raises(ShapeError, match=r"\[0, 10\)"):
        schedule.q_sample(x, torch.tensor([0, 10]), x)
    with pytest.raises(ShapeError, match="long"):
        schedule.q_sample(x, torch.tensor([0.0, 1.0]), x)
    with pytest.raises(ShapeError, match="does not match"):
        schedule.q_sample(x, torch.tensor([0, 1, 2]), x)
    with pytest.raises(ShapeError, match="beta"):
        linear_schedule(beta_start=0.0)
