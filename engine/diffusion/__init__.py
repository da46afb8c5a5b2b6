"""Noise schedule and DDIM sampler for the parameter-vector diffusion model."""

from engine.diffusion.ddim import DDIMTrajectory, EpsFn, ddim_sample, ddim_timesteps
from engine.diffusion.schedule import NoiseSchedule, forward_noise, linear_schedule

__all__ = [
    "DDIMTrajectory",
    "EpsFn",
    "NoiseSchedule",
    "ddim_sample",
    "ddim_timesteps",
    "forward_noise",
    "linear_schedule",
]
