"""Training candidates for the HMR-Scorer: ground truth plus noise, and their true errors.

Each image gets K candidates: the ground truth itself, then copies perturbed at noise
levels spread log-uniformly from tiny to large, so that neighbouring candidates differ by
little and by a lot and the ranking is learnable at every scale. Within a candidate the
pose, global orientation and shape noise are each a random share of its level, so the
three errors (MPJPE, PA-MPJPE, PVE) do not always agree; a random subset of joints is
perturbed, so some candidates are wrong in one limb only. The camera gets its own,
smaller noise: it moves the 2D projection without changing the root-aligned 3D errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from engine.body.rotations import axis_angle_to_matrix, matrix_to_rotation_6d, rotation_6d_to_matrix
from engine.errors import ShapeError
from engine.metrics import mpjpe, pa_mpjpe, pve
from engine.models.param_layout import ParamLayout
from engine.models.scorer_parts import joint_inputs

ERROR_NAMES = ("MPJPE", "PA-MPJPE", "PVE")


@dataclass(frozen=True)
class CandidateNoise:
    """How far noisy candidates stray from ground truth (at noise level 1).

    min_level, max_level: per-candidate levels are log-uniform in this range.
    pose_sigma: per-joint rotation noise, radians (axis-angle, composed with the truth).
    orient_sigma: global orientation noise, radians.
    betas_sigma: shape coefficient noise.
    cam_scale_sigma: log-scale noise of the camera's s; cam_trans_sigma: noise of
        (tx, ty), metres. The camera level is drawn separately from the body's.
    min_joint_fraction: a candidate perturbs a random share of joints in [this, 1].
    """

    min_level: float = 0.02
    max_level: float = 1.0
    pose_sigma: float = 0.5
    orient_sigma: float = 0.5
    betas_sigma: float = 1.5
    cam_scale_sigma: float = 0.08
    cam_trans_sigma: float = 0.08
    min_joint_fraction: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.min_level <= self.max_level:
            raise ShapeError(f"candidate noise: need 0 < min_level <= max_level, got {self.min_level}, {self.max_level}")
        if not 0 < self.min_joint_fraction <= 1:
            raise ShapeError(f"candidate noise: min_joint_fraction must be in (0, 1], got {self.min_joint_fraction}")


def _log_uniform(shape: tuple[int, ...], lo: float, hi: float, g: torch.Generator, device) -> torch.Tensor:
    u = torch.rand(shape, generator=g, device=device)
    return torch.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))


def noisy_candidates(
    gt_params: torch.Tensor,
    num: int,
    generator: torch.Generator,
    noise: CandidateNoise = CandidateNoise(),
    layout: ParamLayout = ParamLayout(),
    include_gt: bool = True,
) -> torch.Tensor:
    """Perturbed copies of ground-truth parameter vectors.

    Args:
        gt_params: (B, D) raw (not normalised) vectors in ``layout``.
        num: K candidates per person (>= 1); with ``include_gt`` the first is the truth.
        generator: seeds the noise (on gt_params' device).

    Returns:
        (B, K, D) raw parameter vectors.
    """
    if gt_params.ndim != 2 or gt_params.shape[1] != layout.dim:
        raise ShapeError(f"noisy_candidates: gt_params has shape {tuple(gt_params.shape)}, expected (B, {layout.dim})")
    if num < 1:
        raise ShapeError(f"noisy_candidates: need at least one candidate, got {num}")
    B, K, dev = gt_params.shape[0], num, gt_params.device
    g = generator
    rot6d, betas, cam = layout.split(gt_params)
    J = layout.num_joints
    level = _log_uniform((B, K, 1), noise.min_level, noise.max_level, g, dev)
    share = 0.25 + 0.75 * torch.rand(B, K, 3, generator=g, device=dev)  # pose, orient, betas
    fraction = noise.min_joint_fraction + (1 - noise.min_joint_fraction) * torch.rand(B, K, 1, generator=g, device=dev)
    joint_on = (torch.rand(B, K, J - 1, generator=g, device=dev) < fraction).float()

    sigma = torch.cat(
        [level * share[..., 1:2] * noise.orient_sigma, level * share[..., :1] * noise.pose_sigma * joint_on], dim=-1
    )  # (B, K, J) radians
    delta = torch.randn(B, K, J, 3, generator=g, device=dev) * sigma[..., None]
    R = rotation_6d_to_matrix(rot6d)[:, None] @ axis_angle_to_matrix(delta)  # (B, K, J, 3, 3)
    new_betas = betas[:, None] + torch.randn(B, K, betas.shape[-1], generator=g, device=dev) * (
        level * share[..., 2:3] * noise.betas_sigma
    )
    cam_level = _log_uniform((B, K, 1), noise.min_level, noise.max_level, g, dev)
    scale = cam[:, None, :1] * torch.exp(torch.randn(B, K, 1, generator=g, device=dev) * cam_level * noise.cam_scale_sigma)
    trans = cam[:, None, 1:] + torch.randn(B, K, 2, generator=g, device=dev) * cam_level * noise.cam_trans_sigma
    out = layout.join(matrix_to_rotation_6d(R), new_betas, torch.cat([scale, trans], dim=-1))
    if include_gt:
        out[:, 0] = gt_params
    return out


def candidate_errors(
    joints: torch.Tensor,
    vertices: torch.Tensor,
    gt_joints: torch.Tensor,
    gt_vertices: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """Each candidate's errors against its person's ground truth.

    Args:
        joints: (B, K, 24, 3) and vertices: (B, K, V, 3) candidates, metres.
        gt_joints: (B, 24, 3) and gt_vertices: (B, V, 3), metres.

    Returns:
        {'MPJPE', 'PA-MPJPE', 'PVE'}: (B, K) errors in mm, pelvis-aligned (PVE aligns each
        body's vertices by its own pelvis joint).
    """
    if joints.ndim != 4 or vertices.ndim != 4 or joints.shape[:2] != vertices.shape[:2]:
        raise ShapeError(
            f"candidate_errors: joints {tuple(joints.shape)} and vertices {tuple(vertices.shape)} must be (B, K, ., 3)"
        )
    B, K = joints.shape[:2]
    cj = joints.reshape(B * K, *joints.shape[2:])
    gj = gt_joints.repeat_interleave(K, dim=0)
    cv = vertices.reshape(B * K, *vertices.shape[2:])
    gv = gt_vertices.repeat_interleave(K, dim=0)
    errors = {
        "MPJPE": mpjpe(cj, gj),
        "PA-MPJPE": pa_mpjpe(cj, gj),
        "PVE": pve(cv, gv, cj[:, 0], gj[:, 0]),
    }
    return {name: e.reshape(B, K) for name, e in errors.items()}


@dataclass(frozen=True, eq=False)
class PosedCandidates:
    """Candidates posed by the body model, what the scorer reads and what errors need.

    crop: (B, K, 41, 2) projected joints then keypoints, normalised crop coordinates.
    depth: (B, K, 41) z relative to the pelvis, metres.
    joints: (B, K, 24, 3) and vertices: (B, K, V, 3), metres.
    keypoints3d: (B, K, 17, 3) COCO-17 keypoints, metres (a detector-conditioned scorer
        compares them with the detector's world landmarks).
    """

    crop: torch.Tensor
    depth: torch.Tensor
    joints: torch.Tensor
    vertices: torch.Tensor
    keypoints3d: torch.Tensor


def pose_candidates(body, params: torch.Tensor, layout: ParamLayout = ParamLayout()) -> PosedCandidates:
    """Pose (B, K, D) raw parameter vectors with a BodyModel (on its device)."""
    B, K = params.shape[:2]
    rot6d, betas, cam = layout.split(params.reshape(B * K, -1).to(body.device))
    out = body(rot6d, betas, cam, rotation_format="6d")
    crop, depth = joint_inputs(out.joints, out.keypoints, out.joints_2d, out.keypoints_2d)
    return PosedCandidates(
        crop=crop.reshape(B, K, *crop.shape[1:]),
        depth=depth.reshape(B, K, -1),
        joints=out.joints.reshape(B, K, *out.joints.shape[1:]),
        vertices=out.vertices.reshape(B, K, *out.vertices.shape[1:]),
        keypoints3d=out.keypoints.reshape(B, K, *out.keypoints.shape[1:]),
    )


class RestRootJoint:
    """betas (10,) -> the body's rest-pose pelvis (3,) metres, as ``PersonCropDataset``
    needs to turn cameras with rotated crops. Plain numpy, so DataLoader workers can
    take it along."""

    def __init__(self, body):
        with torch.no_grad():
            self.rest = (body.J_regressor[0] @ body.v_template).cpu().numpy().astype(np.float64)
            self.per_beta = torch.einsum("v,vcb->cb", body.J_regressor[0], body.shapedirs).cpu().numpy().astype(np.float64)

    def __call__(self, betas: np.ndarray) -> np.ndarray:
        return (self.rest + self.per_beta @ np.asarray(betas, np.float64)).astype(np.float32)

