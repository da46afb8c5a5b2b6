"""Turn each candidate to face as the detector's 3D world landmarks do.

A diffusion model reads the landmarks but, trained on renders of a narrow range of
views, turns bodies seen from behind or from above the wrong way on real footage, while
its articulated pose (what PA-MPJPE measures) is much closer. BlazePose's world
landmarks carry the body's orientation, and that is all this step takes from them: per
candidate, the rotation that best lays its 12 limb keypoints (shoulders to ankles) on the
landmarks', both centred at the hips (Kabsch, visibility-weighted), is applied to the
root joint, and the weak-perspective camera is re-fitted in closed form to the detected
2D keypoints (``engine.body.camera_fit.fit_weak_perspective``), so the turned body
still lies on the person in the image. The pose and shape are not touched. The fit's
world stage starts the same way (``orientation_from_world``).
"""

from __future__ import annotations

import torch

from engine.body.model import BodyModel
from engine.body.rotations import matrix_to_rotation_6d, rotation_6d_to_matrix
from engine.detect.keypoints import BLAZEPOSE_TO_COCO17
from engine.errors import ShapeError
from engine.body.camera_fit import fit_weak_perspective
from engine.models.param_layout import ParamLayout

LIMBS = tuple(range(5, 17))
"""COCO-17 shoulders, elbows, wrists, hips, knees, ankles: the points that orient a body."""
HIPS = (11, 12)


def best_rotation(points: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The proper rotation R (N, 3, 3) minimising sum_k w_k |R p_k - q_k|^2 (Kabsch).

    points, target: (N, K, 3), each already centred where the rotation turns about.
    weights: (N, K) >= 0. A row with no weight gets the identity.
    """
    H = torch.einsum("nk,nki,nkj->nij", weights, points, target)
    U, _, Vt = torch.linalg.svd(H.double())
    d = torch.sign(torch.linalg.det(Vt.transpose(1, 2) @ U.transpose(1, 2)))
    d = torch.where(d == 0, torch.ones_like(d), d)
    D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], dim=-1))
    R = (Vt.transpose(1, 2) @ D @ U.transpose(1, 2)).to(points.dtype)
    none = weights.sum(-1) <= 0
    return torch.where(none[:, None, None], torch.eye(3, dtype=points.dtype, device=points.device), R)


def orient_to_landmarks(
    params: torch.Tensor, landmarks: torch.Tensor, keypoints: torch.Tensor, body: BodyModel, layout: ParamLayout,
) -> torch.Tensor:
    """Candidates turned to face as their person's world landmarks do.

    params: (B, M, D) raw parameter vectors. landmarks: (B, 33, 6) detector tokens
    (``engine.data.landmark_tokens``; a person whose "found" flag is 0 keeps its
    candidates as they are). keypoints: (B, 17, 3) detected normalised crop coordinates +
    confidence (the camera is re-fitted to them). Returns (B, M, D) float32.
    """
    if params.ndim != 3 or params.shape[-1] != layout.dim:
        raise ShapeError(f"orient: params must be (B, M, {layout.dim}), got {tuple(params.shape)}")
    B, M, D = params.shape
    if tuple(landmarks.shape) != (B, 33, 6) or tuple(keypoints.shape) != (B, 17, 3):
        raise ShapeError(f"orient: landmarks {tuple(landmarks.shape)} and keypoints {tuple(keypoints.shape)} "
                         f"must be ({B}, 33, 6) and ({B}, 17, 3)")
    dev = body.device
    flat = params.to(dev, torch.float32).reshape(B * M, D)
    rot, betas, cam = layout.split(flat)
    out = body(rot, betas, cam, return_vertices=False)
    posed = out.keypoints.reshape(B, M, 17, 3)

    tokens = landmarks.to(dev, torch.float32)[:, list(BLAZEPOSE_TO_COCO17)]
    world = tokens[..., :3]
    weights = torch.zeros(B, 17, device=dev)
    weights[:, list(LIMBS)] = tokens[:, list(LIMBS), 3] * tokens[:, list(LIMBS), 5]

    def hip_centred(x: torch.Tensor) -> torch.Tensor:
        return x - x[..., list(HIPS), :].mean(-2, keepdim=True)

    R = best_rotation(hip_centred(posed).reshape(B * M, 17, 3),
                      hip_centred(world)[:, None].expand(B, M, 17, 3).reshape(B * M, 17, 3),
                      weights.repeat_interleave(M, 0))
    root = rotation_6d_to_matrix(rot[:, 0])
    turned_rot = rot.clone()
    turned_rot[:, 0] = matrix_to_rotation_6d(R @ root)
    # Turning the root turns every posed point about the root joint: no second body pass.
    pelvis = out.joints[:, :1]
    turned = (out.keypoints - pelvis) @ R.transpose(1, 2) + pelvis
    detected = keypoints.to(dev, torch.float32).repeat_interleave(M, 0)
    new_cam = fit_weak_perspective(turned, detected, joints=tuple(range(17)))
    # A person the detector gave no landmarks, or no 2D keypoint to place it by, stays as sampled.
    keep = (weights.sum(-1) <= 0) | (keypoints[..., 2].to(dev) <= 0).all(-1)
    keep = keep.repeat_interleave(M, 0)[:, None]
    out = layout.join(turned_rot, betas, new_cam)
    return torch.where(keep, flat, out).reshape(B, M, D)
