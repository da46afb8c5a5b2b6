import pytest
import torch

from engine.diffusion.ddim import ddim_sample, ddim_timesteps, start_timestep
from engine.diffusion.schedule import linear_schedule
from engine.errors import ShapeError

SCHEDULE = linear_schedule()


def _toy_eps(x, t):
    """A fixed, imperfect denoiser: output depends on x_t, so samples depend on x_T."""
    return 0.5 * x + 0.1 + 1e-4 * t[:, None].to(x.dtype)


def test_timesteps_descend_within_range():
    for T, steps in ((1000, 4), (1000, 1), (1000, 7), (10, 10), (50, 3)):
        ts = ddim_timesteps(T, steps)
        assert len(ts) == steps
        assert ts[0] == T - 1
        assert all(0 <= t < T for t in ts)
        assert all(a > b for a, b in zip(ts, ts[1:]))
    assert ddim_timesteps(1000, 4) == [999, 749, 499, 249]
    with pytest.raises(ShapeError):
        ddim_timesteps(10, 11)


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_perfect_oracle_recovers_x0_in_four_steps(eta):
    x0 = torch.randn(8, 144, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    calls = []

    def oracle(x_t, t):
        calls.append(x_t.shape)
        return SCHEDULE.predict_eps(x_t, t, x0)

    out = ddim_sample(oracle, SCHEDULE, (8, 144), steps=4, eta=eta, dtype=torch.float64,
                      generator=torch.Generator().manual_seed(1))

    assert torch.allclose(out, x0, atol=1e-10)
    assert calls == [torch.Size([8, 144])] * 4


def test_oracle_in_float32():
    x0 = torch.randn(4, 20, generator=torch.Generator().manual_seed(2))

    out = ddim_sample(lambda x, t: SCHEDULE.predict_eps(x, t, x0), SCHEDULE, (4, 20))

    assert out.dtype == torch.float32
    assert torch.allclose(out, x0, atol=1e-4)


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_zero_noise_hypothesis_is_deterministic_and_others_are_not(eta):
    mask = torch.tensor([True, False, False, True])

    def sample(seed):
        return ddim_sample(_toy_eps, SCHEDULE, (4, 6), eta=eta, zero_noise_mask=mask,
                           generator=torch.Generator().manual_seed(seed))

    a, b = sample(0), sample(1)

    assert torch.equal(a[0], b[0]) and torch.equal(a[3], b[3])
    assert torch.equal(a[0], a[3])
    assert not torch.allclose(a[1], b[1]) and not torch.allclose(a[2], b[2])
    assert not torch.allclose(a[1], a[2])
    assert torch.isfinite(a).all()


def test_eta_is_seeded_deterministic_and_changes_samples():
    def sample(seed, eta):
        return ddim_sample(_toy_eps, SCHEDULE, (3, 5), eta=eta,
                           generator=torch.Generator().manual_seed(seed))

    assert torch.equal(sample(7, 1.0), sample(7, 1.0))
    assert not torch.allclose(sample(7, 1.0), sample(8, 1.0))
    assert not torch.allclose(sample(7, 1.0), sample(7, 0.0))


def test_trajectory_and_clip():
    out, traj = ddim_sample(_toy_eps, SCHEDULE, (2, 3), steps=4, x0_clip=1.0,
                            generator=torch.Generator().manual_seed(0), return_trajectory=True)

    assert traj.timesteps == (999, 749, 499, 249)
    assert traj.x_t.shape == (5, 2, 3) and traj.x0_pred.shape == (4, 2, 3)
    assert torch.equal(traj.x_t[-1], out)
    assert out.abs().max().item() <= 1.0
    unclipped = ddim_sample(_toy_eps, SCHEDULE, (2, 3), generator=torch.Generator().manual_seed(0))
    assert unclipped.abs().max().item() > 1.0


def test_bad_arguments_are_rejected():
    with pytest.raises(ShapeError, match="zero_noise_mask"):
        ddim_sample(_toy_eps, SCHEDULE, (2, 3), zero_noise_mask=torch.tensor([1, 0]))
    with pytest.raises(ShapeError, match="eps_fn returned"):
        ddim_sample(lambda x, t: x[:, :2], SCHEDULE, (2, 3))
    with pytest.raises(ShapeError, match="eta"):
        ddim_sample(_toy_eps, SCHEDULE, (2, 3), eta=-1.0)


def test_a_start_noised_part_way_lands_near_it_and_nearer_the_earlier_it_starts():
    """SDEdit: x_start noised to start_t and denoised from there. A perfect oracle for
    x_start gives it back exactly; an imperfect denoiser moves it less the smaller start_t."""
    x_start = torch.randn(6, 10, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert ddim_timesteps(1000, 2, start=199) == [199, 99]

    exact = ddim_sample(lambda x, t: SCHEDULE.predict_eps(x, t, x_start), SCHEDULE, (6, 10), steps=2,
                        dtype=torch.float64, x_start=x_start, start_t=199,
                        generator=torch.Generator().manual_seed(4))
    assert torch.allclose(exact, x_start, atol=1e-10)

    moved = []
    for start_t in (99, 499, 999):
        out = ddim_sample(_toy_eps, SCHEDULE, (6, 10), steps=2, dtype=torch.float64, x_start=x_start,
                          start_t=start_t, generator=torch.Generator().manual_seed(4))
        moved.append(float((out - x_start).norm()))
    assert moved[0] < moved[1] < moved[2]


def test_a_zero_noise_row_started_from_an_estimate_ignores_the_seed():
    x_start = torch.randn(3, 5, generator=torch.Generator().manual_seed(5))
    mask = torch.tensor([True, False, False])
    a, b = (ddim_sample(_toy_eps, SCHEDULE, (3, 5), x_start=x_start, start_t=300, zero_noise_mask=mask,
                        generator=torch.Generator().manual_seed(s)) for s in (0, 1))
    assert torch.equal(a[0], b[0])
    assert not torch.allclose(a[1:], b[1:])


def test_a_bad_start_is_refused():
    x_start = torch.zeros(2, 4)
    with pytest.raises(ShapeError, match="go together"):
        ddim_sample(_toy_eps, SCHEDULE, (2, 4), x_start=x_start)
    with pytest.raises(ShapeError, match="x_start"):
        ddim_sample(_toy_eps, SCHEDULE, (3, 4), x_start=x_start, start_t=10)
    with pytest.raises(ShapeError, match="start"):
        ddim_timesteps(1000, 2, start=1000)
    with pytest.raises(ShapeError, match="steps"):
        ddim_timesteps(1000, 5, start=2)
    assert (start_timestep(1000, 0.05), start_timestep(1000, 1.0), start_timestep(1000, 1e-6)) == (49, 999, 0)
    for level in (0.0, 1.5, -0.1):
        with pytest.raises(ShapeError, match="start level"):
            start_timestep(1000, level)
