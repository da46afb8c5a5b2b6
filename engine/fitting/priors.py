"""Priors of the fit: a Gaussian over body poses, a shape prior, knee and elbow bend limits.

The pose prior is fitted on the project's own pose distribution (the synthetic renderer's
``engine.data.synth.pose_prior`` samples: key poses blended, perturbed and clipped to
joint limits), not on a licence-restricted motion-capture prior. A single Gaussian with a
full covariance over the 23 body joints' axis-angle vectors (69 numbers) is enough to
keep unseen joints near plausible values and couple left and right; the data term does
the rest. ``tools/build_pose_prior.py`` stores it in ``resources/fitting/pose_prior.npz``
(20 KB); without that file it is computed on first use (seconds) and kept for the process.

Bend limits use the same tables as the renderer (``LIMITS_LO`` / ``LIMITS_HI``, Euler
degrees; for a hinge the Euler angles equal the axis-angle vector), so a fitted knee or
elbow bends only the way the renderer's bodies bend.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from engine.data.synth.pose_prior import LIMITS_HI, LIMITS_LO, PoseSpread, sample_pose
from engine.errors import DataError

log = logging.getLogger(__name__)

PRIOR_PATH = Path(__file__).resolve().parents[2] / "resources" / "fitting" / "pose_prior.npz"

PRIOR_SAMPLES = 20000
PRIOR_SEED = 1234
COVARIANCE_FLOOR = math.radians(3.0) ** 2
"""Added to the covariance's diagonal: joints the renderer barely moves (hands, feet) keep
some freedom instead of an infinitely sharp prior."""

BEND_JOINTS = (4, 5, 18, 19)
"""SMPL joints whose rotation is limited: left/right knee, left/right elbow."""


@dataclass(frozen=True, eq=False)
class PosePrior:
    """Gaussian over body poses.

    mean: (69,) axis-angle radians of joints 1..23. precision_chol: (69, 69) L with
    L L^T = inverse covariance, so the negative log-likelihood is 0.5 ||(x - mean) L||^2.
    """

    mean: np.ndarray
    precision_chol: np.ndarray

    def nll(self, body_pose: torch.Tensor) -> torch.Tensor:
        """body_pose: (B, 69) axis-angle radians -> (B,) 0.5 * squared Mahalanobis distance."""
        mean = torch.as_tensor(self.mean, dtype=body_pose.dtype, device=body_pose.device)
        L = torch.as_tensor(self.precision_chol, dtype=body_pose.dtype, device=body_pose.device)
        return 0.5 * ((body_pose - mean) @ L).pow(2).sum(-1)


    def save(self, path: str | Path) -> None:
        with open(path, "wb") as fh:
            np.savez(fh, mean=self.mean, precision_chol=self.precision_chol)

    @classmethod
    def load(cls, path: str | Path) -> "PosePrior":
        try:
            with np.load(path) as z:
                mean, chol = np.asarray(z["mean"], np.float32), np.asarray(z["precision_chol"], np.float32)
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{path}: not a pose prior file ({exc})") from None
        if mean.shape != (69,) or chol.shape != (69, 69) or not np.isfinite(chol).all():
            raise DataError(f"{path}: a pose prior needs mean (69,) and precision_chol (69, 69)")
        return cls(mean, chol)


@functools.lru_cache(maxsize=1)
def pose_prior() -> PosePrior:
    """The bundled pose prior, or one fitted now when the file is absent."""
    if PRIOR_PATH.is_file():
        return PosePrior.load(PRIOR_PATH)
    log.info("%s is missing; fitting the pose prior on the renderer's poses", PRIOR_PATH)
    return fit_pose_prior()


def fit_pose_prior(samples: int = PRIOR_SAMPLES, seed: int = PRIOR_SEED) -> PosePrior:
    """The pose prior fitted on ``samples`` draws of the renderer's pose distribution."""
    rng = np.random.default_rng(seed)
    spread = PoseSpread()
    poses = np.stack([sample_pose(rng, spread)[1:].reshape(69) for _ in range(samples)])
    mean = poses.mean(0)
    cov = np.cov(poses, rowvar=False) + COVARIANCE_FLOOR * np.eye(69)
    precision = np.linalg.inv(cov)
    chol = np.linalg.cholesky((precision + precision.T) / 2)
    return PosePrior(mean.astype(np.float32), chol.astype(np.float32))


def shape_prior(betas: torch.Tensor) -> torch.Tensor:
    """betas: (B, 10) -> (B,) squared norm; the body model's shape space is unit-normal."""
    return betas.pow(2).sum(-1)


def bend_limit_bounds() -> tuple[np.ndarray, np.ndarray]:
    """(4, 3) lower and upper bounds in radians of ``BEND_JOINTS``' axis-angle vectors."""
    idx = list(BEND_JOINTS)
    return np.radians(LIMITS_LO[idx]).astype(np.float32), np.radians(LIMITS_HI[idx]).astype(np.float32)


def bend_limit_penalty(body_pose: torch.Tensor) -> torch.Tensor:
    """body_pose: (B, 69) axis-angle radians of joints 1..23 -> (B,) squared excess (rad^2)
    beyond the bounds."""
    lo, hi = (torch.as_tensor(b, dtype=body_pose.dtype, device=body_pose.device) for b in bend_limit_bounds())
    x = body_pose.reshape(-1, 23, 3)[:, [j - 1 for j in BEND_JOINTS]]
    return (torch.relu(lo - x).pow(2) + torch.relu(x - hi).pow(2)).sum((-1, -2))
