"""The forward noising process of DDPM: a beta schedule and the maps it defines.

With ᾱ_t = prod_{s<=t} (1 - β_s):
    x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε,   ε ~ N(0, I),
so any two of (x_t, x0, ε) give the third. Timesteps index 0..T-1; t = 0 is the least
noisy step. The schedule is stored in float64 and each result is cast to the dtype of the
data it is applied to, so float32 data does not lose the small 1 - ᾱ near t = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.errors import ShapeError


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """A discrete diffusion schedule.

    betas: (T,) float64, per-step noise variances β_t in (0, 1).
    alphas_cumprod: (T,) float64, ᾱ_t = prod_{s<=t} (1 - β_s), decreasing.
    """

    betas: torch.Tensor
    alphas_cumprod: torch.Tensor

    def __post_init__(self) -> None:
        if self.betas.ndim != 1 or self.betas.shape != self.alphas_cumprod.shape:
            raise ShapeError(
                f"NoiseSchedule: betas {tuple(self.betas.shape)} and alphas_cumprod "
                f"{tuple(self.alphas_cumprod.shape)} must both be (T,)"
            )
        if self.betas.numel() == 0 or not bool(((self.betas > 0) & (self.betas < 1)).all()):
            raise ShapeError("NoiseSchedule: betas must be non-empty and lie in (0, 1)")

    @property
    def num_timesteps(self) -> int:
        """T, the number of discrete timesteps."""
        return self.betas.shape[0]

    @property
    def device(self) -> torch.device:
        return self.betas.device

    def to(self, device: torch.device | str) -> NoiseSchedule:
        """A copy with its tensors on ``device`` (float32 on MPS, which has no float64)."""
        device = torch.device(device)
        dtype = torch.float32 if device.type == "mps" else torch.float64
        return NoiseSchedule(
            betas=self.betas.to(device=device, dtype=dtype),
            alphas_cumprod=self.alphas_cumprod.to(device=device, dtype=dtype),
        )

    def alpha_bar(self, t: torch.Tensor) -> torch.Tensor:
        """ᾱ_t for t: (B,) long in [0, T) -> (B,) in the schedule's dtype, on t's device."""
        if t.dtype != torch.long or t.ndim != 1:
            raise ShapeError(f"NoiseSchedule: t must be a (B,) long tensor, got {t.dtype} {tuple(t.shape)}")
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.num_timesteps):
            raise ShapeError(f"NoiseSchedule: timesteps must lie in [0, {self.num_timesteps})")
        return self.alphas_cumprod.to(t.device)[t]

    def _coefficients(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """sqrt(ᾱ_t) and sqrt(1 - ᾱ_t), shaped (B, 1, ...) to broadcast against ``like``."""
        if like.ndim < 1 or like.shape[0] != t.shape[0]:
            raise ShapeError(
                f"NoiseSchedule: data batch {tuple(like.shape)} does not match t {tuple(t.shape)}"
            )
        a = self.alpha_bar(t.to(like.device))
        view = (-1,) + (1,) * (like.ndim - 1)
        return a.sqrt().to(like.dtype).view(view), (1.0 - a).sqrt().to(like.dtype).view(view)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Noise clean data to step t.

        x0: (B, D) clean data. t: (B,) long in [0, T). noise: (B, D) standard normal ε.
        Returns x_t: (B, D), dtype of x0.
        """
        return forward_noise(x0, noise, *self._coefficients(t, x0))

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Clean data implied by x_t and its noise: (x_t - sqrt(1 - ᾱ_t) ε) / sqrt(ᾱ_t).

        x_t, eps: (B, D). t: (B,) long. Returns (B, D), dtype of x_t.
        """
        signal, sigma = self._coefficients(t, x_t)
        return (x_t - sigma * eps) / signal

    def predict_eps(self, x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        """Noise implied by x_t and clean data: (x_t - sqrt(ᾱ_t) x0) / sqrt(1 - ᾱ_t).

        Lets a model that predicts x0 drive the ε-based sampler.
        x_t, x0: (B, D). t: (B,) long. Returns (B, D), dtype of x_t.
        """
        signal, sigma = self._coefficients(t, x_t)
        return (x_t - signal * x0) / sigma

    def snr(self, t: torch.Tensor) -> torch.Tensor:
        """Signal-to-noise ratio ᾱ_t / (1 - ᾱ_t) for t: (B,) long -> (B,) float64."""
        a = self.alpha_bar(t)
        return a / (1.0 - a)


def forward_noise(x0: torch.Tensor, noise: torch.Tensor, signal: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The forward process, the one place it is written: x_t = sqrt(ᾱ_t) x0 + sqrt(1 - ᾱ_t) ε.

    x0, noise: (B, D). signal, sigma: sqrt(ᾱ_t) and sqrt(1 - ᾱ_t), (B, 1) (whoever holds
    the schedule looks them up: ``NoiseSchedule`` in float64, a model from its own buffers).
    Returns x_t: (B, D). Raises ShapeError when noise and x0 differ in shape.
    """
    if noise.shape != x0.shape:
        raise ShapeError(f"q_sample: noise {tuple(noise.shape)} differs from x0 {tuple(x0.shape)}")
    return signal * x0 + sigma * noise


def linear_schedule(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
    """The DDPM linear schedule: β evenly spaced from beta_start to beta_end over T steps.

    Defaults are those of DDPM and ADHMR (β 1e-4 ... 0.02, T = 1000), giving
    ᾱ_{T-1} ≈ 4.0e-5. The tensors live on the CPU; use :meth:`NoiseSchedule.to` to move.
    """
    if T < 1:
        raise ShapeError(f"linear_schedule: T must be at least 1, got {T}")
    if not 0 < beta_start <= beta_end < 1:
        raise ShapeError(
            f"linear_schedule: need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}"
        )
    betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    return NoiseSchedule(betas=betas, alphas_cumprod=torch.cumprod(1.0 - betas, dim=0))
