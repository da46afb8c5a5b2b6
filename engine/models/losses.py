"""Loss terms of the base diffusion model, one idea each, per sample (beside the model
that computes them in ``DiffusionHMR.training_loss``; DPO reuses the 2D term).

Every function returns a per-sample loss (B,) so callers can mask samples that lack a
label (``has_pose``, ``has_betas``, ``has_camera``) and average with :func:`masked_mean`.
"""

from __future__ import annotations

import torch

from engine.models.param_layout import ParamLayout


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of values (B,) over the rows where mask (B,) bool is True; 0 when none is."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def parameter_mask(
    layout: ParamLayout, has_pose: torch.Tensor, has_betas: torch.Tensor, has_camera: torch.Tensor
) -> torch.Tensor:
    """Which entries of each label vector are known: (B,) bools -> (B, D) float 0/1."""
    B = has_pose.shape[0]
    parts = [
        has_pose[:, None].expand(B, layout.rot_size),
        has_betas[:, None].expand(B, layout.num_betas),
        has_camera[:, None].expand(B, layout.cam_dim),
    ]
    return torch.cat(parts, dim=1).float()


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sample mean squared error over the known entries.

    pred, target, mask: (B, D); returns (B,), 0 for a sample with no known entry.
    """
    se = (pred - target).square() * mask
    return se.sum(1) / mask.sum(1).clamp(min=1.0)


def keypoint_2d_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Confidence-weighted L1 reprojection error.

    pred: (B, K, 2) normalised crop coordinates. target: (B, K, 3) x, y normalised crop
    coordinates and a confidence in [0, 1]. Returns (B,), in crop units (1 = half a crop).
    """
    conf = target[..., 2]
    err = (pred - target[..., :2]).abs().sum(-1)
    return (err * conf).sum(1) / conf.sum(1).clamp(min=1e-6)


def root_aligned_l1(
    pred: torch.Tensor, target: torch.Tensor, pred_root: torch.Tensor, target_root: torch.Tensor
) -> torch.Tensor:
    """Mean per-point L1 distance after moving both roots to the origin.

    pred, target: (B, N, 3) metres. pred_root, target_root: (B, 3) metres (the pelvis).
    Returns (B,) metres.
    """
    p = pred - pred_root[:, None]
    q = target - target_root[:, None]
    return (p - q).abs().sum(-1).mean(1)
