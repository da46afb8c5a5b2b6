"""DDIM sampling (Song et al. 2021) with few steps, as ADHMR samples its hypotheses.

One step from t to the next, earlier timestep t' (ᾱ' = 1 at the end):
    x0^ = (x_t - sqrt(1 - ᾱ) ε) / sqrt(ᾱ)
    σ   = η sqrt((1 - ᾱ') / (1 - ᾱ)) sqrt(1 - ᾱ / ᾱ')
    x_t' = sqrt(ᾱ') x0^ + sqrt(1 - ᾱ' - σ²) ε + σ z,   z ~ N(0, I)
η = 0 is the deterministic DDIM sampler; η = 1 matches DDPM's posterior variance.
The last step lands on ᾱ' = 1, so the sample is the final x0^.

Hypotheses flagged by ``zero_noise_mask`` start from x_T = 0 and never receive z, so they
are the same whatever the generator: ADHMR's hypothesis 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from engine.diffusion.schedule import NoiseSchedule
from engine.errors import ShapeError

EpsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""eps_fn(x_t: (B, D), t: (B,) long) -> predicted noise ε: (B, D)."""


@dataclass(frozen=True, eq=False)
class DDIMTrajectory:
    """The intermediate states of one sampling run.

    timesteps: the S timesteps visited, descending.
    x_t: (S + 1, B, D), x_T then the state after each step (the last is the sample).
    x0_pred: (S, B, D), the clean estimate x0^ made at each step.
    """

    timesteps: tuple[int, ...]
    x_t: torch.Tensor
    x0_pred: torch.Tensor


DEFAULT_STEPS = 2
"""DDIM steps (network evaluations per hypothesis) every sampler uses unless told.
Chosen on the validation renders with the default checkpoints (README, Sampling steps):
2 steps gave the best Select MPJPE on studio and lab (97.5 and 128.7 mm against 101.2
and 130.8 at 4 steps), the same on real footage, and half the sampling time; the oracle
Min is about 1 mm worse and the scorer's rank correlation among the samples lower, as
the samples spread less."""

def ddim_timesteps(T: int, steps: int, start: int | None = None) -> list[int]:
    """``steps`` timesteps evenly spaced over [0, T), descending, the first being T - 1.

    "Trailing" spacing: t_k = round(T - k T / steps) - 1. Starting at T - 1 rather than
    at T - T/steps matters with 4 steps: x_T = pure noise is only consistent with the
    last timestep. Example: T = 1000, steps = 4 -> [999, 749, 499, 249].
    start: begin at this timestep instead of T - 1 (a partly noised starting point,
    ``ddim_sample``'s x_start), spacing the steps over [0, start] the same way.
    """
    top = T if start is None else int(start) + 1
    if not 1 <= top <= T:
        raise ShapeError(f"ddim_timesteps: start must lie in [0, {T - 1}], got {start}")
    if not 1 <= steps <= top:
        raise ShapeError(f"ddim_timesteps: steps must lie in [1, {top}], got {steps}")
    return [int(round(top - k * top / steps)) - 1 for k in range(steps)]


def start_timestep(T: int, level: float) -> int:
    """The timestep a fraction ``level`` in (0, 1] of the way through a T-step schedule
    (1: T - 1, pure noise): where ``ddim_sample`` noises an ``x_start`` to.
    Raises ShapeError for a level outside (0, 1]."""
    if not 0.0 < float(level) <= 1.0:
        raise ShapeError(f"start level must lie in (0, 1], got {level}")
    return max(0, int(round(float(level) * T)) - 1)


def ddim_sample(
    eps_fn: EpsFn,
    schedule: NoiseSchedule,
    shape: tuple[int, int],
    steps: int = DEFAULT_STEPS,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    zero_noise_mask: torch.Tensor | None = None,
    x0_clip: float | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    return_trajectory: bool = False,
    x0_guide: Callable[[torch.Tensor], torch.Tensor] | None = None,
    x_start: torch.Tensor | None = None,
    start_t: int | None = None,
) -> torch.Tensor | tuple[torch.Tensor, DDIMTrajectory]:
    """Draw samples by DDIM.

    eps_fn: called once per step with the whole batch, (x_t: (B, D), t: (B,) long) ->
        ε: (B, D). It runs under the caller's grad mode: wrap in ``torch.no_grad()`` for
        inference.
    schedule: the noise schedule the model was trained with.
    shape: (B, D) of the samples, e.g. persons x hypotheses flattened into B.
    steps: network evaluations (ADHMR uses 4).
    eta: 0 = deterministic DDIM, > 0 adds fresh noise each step.
    generator: seeds x_T and the η noise; noise is drawn on the generator's device and then
        moved, so a CPU generator gives the same samples on any device.
    zero_noise_mask: (B,) bool; True rows start from x_T = 0 and get no η noise.
    x0_clip: clamp x0^ to [-x0_clip, x0_clip] each step (ε is re-derived to match),
        useful because ε errors at t ≈ T reach x0^ amplified by 1 / sqrt(ᾱ) ≈ 157.
    device: where to sample; default the schedule's device.
    dtype: dtype of the samples.
    return_trajectory: also return a :class:`DDIMTrajectory`.
    x0_guide: maps each step's x0^ (B, D) to a moved one (guided sampling, e.g.
        ``engine.models.guidance``), applied before the clamp; ε is re-derived to match.
    x_start, start_t: start from x_start (B, D), a clean estimate from elsewhere, noised
        to timestep start_t (x = sqrt(ᾱ) x_start + sqrt(1 - ᾱ) z; zero-noise rows get no
        z), and take the ``steps`` steps from there (SDEdit, Meng et al. 2022): the
        samples stay near x_start, the nearer the smaller start_t. Both or neither.
    Returns x0: (B, D) in ``dtype`` on ``device`` (and the trajectory when asked).
    """
    if len(shape) != 2 or min(shape) < 1:
        raise ShapeError(f"ddim_sample: shape must be (B, D) with B, D >= 1, got {tuple(shape)}")
    if eta < 0:
        raise ShapeError(f"ddim_sample: eta must be >= 0, got {eta}")
    if x0_clip is not None and x0_clip <= 0:
        raise ShapeError(f"ddim_sample: x0_clip must be positive, got {x0_clip}")
    device = schedule.device if device is None else torch.device(device)
    batch = shape[0]
    keep_noise = _noise_keep(zero_noise_mask, batch, device, dtype)

    def noise() -> torch.Tensor:
        origin = generator.device if generator is not None else device
        z = torch.randn(shape, generator=generator, device=origin, dtype=dtype)
        return z.to(device) * keep_noise

    if (x_start is None) != (start_t is None):
        raise ShapeError("ddim_sample: x_start and start_t go together")
    alphas = schedule.alphas_cumprod.detach().cpu().tolist()
    timesteps = ddim_timesteps(schedule.num_timesteps, steps, start_t)
    x = noise()
    if x_start is not None:
        if tuple(x_start.shape) != tuple(shape):
            raise ShapeError(f"ddim_sample: x_start is {tuple(x_start.shape)}, expected {tuple(shape)}")
        a0 = alphas[timesteps[0]]
        x = math.sqrt(a0) * x_start.to(device=device, dtype=dtype) + math.sqrt(1.0 - a0) * x
    states, estimates = [x], []
    for i, t in enumerate(timesteps):
        a = alphas[t]
        a_prev = alphas[timesteps[i + 1]] if i + 1 < len(timesteps) else 1.0
        eps = eps_fn(x, torch.full((batch,), t, dtype=torch.long, device=device))
        if eps.shape != x.shape:
            raise ShapeError(f"ddim_sample: eps_fn returned {tuple(eps.shape)}, expected {tuple(x.shape)}")
        eps = eps.to(dtype)
        x0 = (x - math.sqrt(1.0 - a) * eps) / math.sqrt(a)
        if x0_guide is not None:
            x0 = x0_guide(x0)
        if x0_clip is not None:
            x0 = x0.clamp(-x0_clip, x0_clip)
        if x0_guide is not None or x0_clip is not None:
            eps = (x - math.sqrt(a) * x0) / math.sqrt(1.0 - a)
        sigma = eta * math.sqrt((1.0 - a_prev) / (1.0 - a) * (1.0 - a / a_prev))
        x = math.sqrt(a_prev) * x0 + math.sqrt(max(1.0 - a_prev - sigma**2, 0.0)) * eps
        if sigma > 0:
            x = x + sigma * noise()
        states.append(x)
        estimates.append(x0)
    if not return_trajectory:
        return x
    return x, DDIMTrajectory(
        timesteps=tuple(timesteps), x_t=torch.stack(states), x0_pred=torch.stack(estimates)
    )


def _noise_keep(
    mask: torch.Tensor | None, batch: int, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """(B, 1) multiplier: 0 for zero-noise rows, 1 for the others."""
    if mask is None:
        return torch.ones((batch, 1), device=device, dtype=dtype)
    if mask.dtype != torch.bool or tuple(mask.shape) != (batch,):
        raise ShapeError(
            f"ddim_sample: zero_noise_mask must be a ({batch},) bool tensor, got "
            f"{mask.dtype} {tuple(mask.shape)}"
        )
    return (~mask).to(device=device, dtype=dtype)[:, None]
