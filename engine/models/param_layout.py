"""What is diffused: one vector per person, and its per-dimension normalisation.

Layout (DESIGN.md): 24 joint rotations in 6D (root orientation first, then SMPL's 23 body
joints) = 144, then 10 shape coefficients, then the weak-perspective crop camera
(s, tx, ty) = 157 numbers. Decoding is exact and cheap: no inverse kinematics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.body.rotations import axis_angle_to_rotation_6d, rotation_6d_to_axis_angle
from engine.errors import CheckpointError, ShapeError


@dataclass(frozen=True)
class ParamLayout:
    """Slices of the diffused vector."""

    num_joints: int = 24
    rot_dim: int = 6
    num_betas: int = 10
    cam_dim: int = 3

    @property
    def rot_size(self) -> int:
        return self.num_joints * self.rot_dim

    @property
    def dim(self) -> int:
        return self.rot_size + self.num_betas + self.cam_dim

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: (..., D) -> rot6d (..., 24, 6), betas (..., 10), cam (..., 3)."""
        if x.shape[-1] != self.dim:
            raise ShapeError(f"parameters: expected last dimension {self.dim}, got shape {tuple(x.shape)}")
        rot = x[..., : self.rot_size].reshape(*x.shape[:-1], self.num_joints, self.rot_dim)
        betas = x[..., self.rot_size : self.rot_size + self.num_betas]
        cam = x[..., self.rot_size + self.num_betas :]
        return rot, betas, cam

    def join(self, rot6d: torch.Tensor, betas: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
        """rot6d (..., 24, 6), betas (..., 10), cam (..., 3) -> (..., D)."""
        lead = rot6d.shape[:-2]
        return torch.cat([rot6d.reshape(*lead, self.rot_size), betas, cam], dim=-1)

    def from_axis_angle(self, pose: torch.Tensor, betas: torch.Tensor, cam: torch.Tensor) -> torch.Tensor:
        """pose (..., 72) axis-angle, betas (..., 10), cam (..., 3) -> (..., D)."""
        rot = axis_angle_to_rotation_6d(pose.reshape(*pose.shape[:-1], self.num_joints, 3))
        return self.join(rot, betas, cam)

    def to_axis_angle(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(..., D) -> pose (..., 72) axis-angle, betas (..., 10), cam (..., 3)."""
        rot, betas, cam = self.split(x)
        pose = rotation_6d_to_axis_angle(rot).reshape(*rot.shape[:-2], self.num_joints * 3)
        return pose, betas, cam

    def to_dict(self) -> dict:
        return {
            "num_joints": self.num_joints,
            "rot_dim": self.rot_dim,
            "num_betas": self.num_betas,
            "cam_dim": self.cam_dim,
            "order": "rot6d[24] (root first), betas[10], cam(s,tx,ty)",
        }

    @classmethod
    def from_dict(cls, d: dict) -> "ParamLayout":
        try:
            return cls(int(d["num_joints"]), int(d["rot_dim"]), int(d["num_betas"]), int(d["cam_dim"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"parameter layout is malformed ({exc})") from None


@dataclass(frozen=True)
class Normalizer:
    """Per-dimension standardisation of the diffused vector.

    mean, std: (D,) float32.
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, min_std: float = 1e-3) -> "Normalizer":
        """Fit on training vectors x: (N, D)."""
        x = np.asarray(x, np.float64)
        return cls(x.mean(0).astype(np.float32), np.maximum(x.std(0), min_std).astype(np.float32))

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean, device=x.device, dtype=x.dtype)
        std = torch.as_tensor(self.std, device=x.device, dtype=x.dtype)
        return (x - mean) / std

    def denormalize(self, z: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean, device=z.device, dtype=z.dtype)
        std = torch.as_tensor(self.std, device=z.device, dtype=z.dtype)
        return z * std + mean

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict, dim: int) -> "Normalizer":
        try:
            mean = np.asarray(d["mean"], np.float32)
            std = np.asarray(d["std"], np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"normaliser is malformed ({exc})") from None
        if mean.shape != (dim,) or std.shape != (dim,) or not (np.isfinite(mean).all() and (std > 0).all()):
            raise CheckpointError(f"normaliser does not fit a {dim}-dimensional parameter vector")
        return cls(mean, std)
