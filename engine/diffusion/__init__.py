"""Noise schedule and DDIM sampler for the parameter-vector diffusion model."""

from engine.diffusion.ddim import DEFAULT_STEPS, DDIMTrajectory, EpsFn, ddim_sample, ddim_timesteps, start_timestep
from engine.diffusion.schedule import NoiseSchedule, forward_noise, linear_schedule

__all__ = [
    "DEFAULT_STEPS",
    "DDIMTrajectory",
    "EpsFn",
    "NoiseSchedule",
    "ddim_sample",
    "ddim_timesteps",
    "forward_noise",
    "linear_schedule",
    "start_timestep",
]
