"""Turn each candidate to face as the detector's 3D world landmarks do.

A diffusion model reads the landmarks but, trained on renders of a narrow range of
views, turns bodies seen from behind or from above the wrong way on real footage, while
its articulated pose (what PA-MPJPE measures) is much closer. BlazePose's world
landmarks carry the body's orientation, and that is all this step takes from them: per
candidate, the rotation that best lays its 12 limb keypoints (shoulders to ankles) on the
landmarks', both centred at the hips (Kabsch, visibility-weighted), is applied to the
root joint, and the weak-perspective camera is re-fitted in closed form to the detected
2D keypoints (``engine.body.camera_fit.fit_weak_perspective``), so the turned body
still lies on the person in the image. The pose and shape are not touched. It works on
the decoded candidates: their meshes turn with the root, so no second body pass is
needed. The fit's world stage starts the same way (``orientation_from_world``).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from engine.body.camera_fit import fit_weak_perspective
from engine.body.projection import crop_to_image, project_weak_perspective
from engine.body.rotations import matrix_to_axis_angle, matrix_to_rotation_6d, rotation_6d_to_matrix
from engine.detect.keypoints import BLAZEPOSE_TO_COCO17
from engine.errors import ShapeError
from engine.models.candidates import Candidates
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


def orient_candidates(
    cands: Candidates, landmarks: torch.Tensor, keypoints: torch.Tensor, layout: ParamLayout,
    crop_center: torch.Tensor, crop_size: torch.Tensor,
) -> Candidates:
    """Decoded candidates turned to face as their person's world landmarks do.

    cands: N persons x M decoded hypotheses (``decode_candidates``). landmarks: (N, 33, 6)
    detector tokens (``engine.data.landmark_tokens``; a person whose "found" flag is 0
    keeps its candidates as they are). keypoints: (N, 17, 3) detected normalised crop
    coordinates + confidence (the camera is re-fitted to them). crop_center: (N, 2) px and
    crop_size: (N,) px, each person's crop in the full image.

    Turning the root turns every posed point about the pelvis, so the meshes, joints and
    keypoints are rotated in place: the same bodies a second body-model pass with the new
    root would give, at a fraction of its cost. Returns a Candidates without scores.
    """
    N, M = cands.num_persons, cands.num_hypotheses
    if tuple(landmarks.shape) != (N, 33, 6) or tuple(keypoints.shape) != (N, 17, 3):
        raise ShapeError(f"orient: landmarks {tuple(landmarks.shape)} and keypoints {tuple(keypoints.shape)} "
                         f"must be ({N}, 33, 6) and ({N}, 17, 3)")
    tokens = landmarks.to(torch.float32)[:, list(BLAZEPOSE_TO_COCO17)]
    weights = torch.zeros(N, 17)
    weights[:, list(LIMBS)] = tokens[:, list(LIMBS), 3] * tokens[:, list(LIMBS), 5]
    # A person the detector gave no landmarks, or no 2D keypoint to place it by, stays as sampled.
    keep = (weights.sum(-1) <= 0) | (keypoints[..., 2] <= 0).all(-1)
    if bool(keep.all()):
        return replace(cands, scores=None)

    def hip_centred(x: torch.Tensor) -> torch.Tensor:
        return x - x[..., list(HIPS), :].mean(-2, keepdim=True)

    kept = keep.repeat_interleave(M, 0)[:, None]  # (N M, 1)
    posed = cands.keypoints3d.reshape(N * M, 17, 3)
    world = hip_centred(tokens[..., :3])[:, None].expand(N, M, 17, 3).reshape(N * M, 17, 3)
    R = best_rotation(hip_centred(posed), world, weights.repeat_interleave(M, 0))
    R = torch.where(kept[..., None], torch.eye(3), R)
    pelvis = cands.joints.reshape(N * M, 24, 3)[:, :1]
    offset = (pelvis - pelvis @ R.transpose(1, 2)).transpose(1, 2)

    def turn(points: torch.Tensor) -> torch.Tensor:
        # R (x - p) + p as one batched GEMM over the points laid out (3, K): with the
        # points as rows, the GEMM's inner size would be 3 and it runs several times slower.
        flat = points.reshape(N * M, -1, 3).transpose(1, 2)
        return torch.baddbmm(offset, R, flat).transpose(1, 2).contiguous().reshape(points.shape)

    joints, kp3d = turn(cands.joints), turn(cands.keypoints3d)
    rot, betas, cam = layout.split(cands.params.reshape(N * M, layout.dim))
    root = R @ rotation_6d_to_matrix(rot[:, 0])
    turned_rot = rot.clone()
    turned_rot[:, 0] = matrix_to_rotation_6d(root)
    detected = keypoints.to(torch.float32).repeat_interleave(M, 0)
    new_cam = fit_weak_perspective(kp3d.reshape(N * M, 17, 3), detected, joints=tuple(range(17)))
    new_cam = torch.where(kept, cam, new_cam)
    pose_aa = cands.pose_aa.reshape(N * M, -1).clone()
    pose_aa[:, :3] = matrix_to_axis_angle(root)
    params = torch.where(kept, cands.params.reshape(N * M, -1), layout.join(turned_rot, betas, new_cam))
    pose_aa = torch.where(kept, cands.pose_aa.reshape(N * M, -1), pose_aa)
    joints_crop = project_weak_perspective(joints.reshape(N * M, 24, 3), new_cam)
    keypoints_crop = project_weak_perspective(kp3d.reshape(N * M, 17, 3), new_cam)
    centre = crop_center.to(torch.float32).reshape(N, 2).repeat_interleave(M, 0)
    size = crop_size.to(torch.float32).reshape(N).repeat_interleave(M, 0)

    def grid(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(N, M, *x.shape[1:])

    return Candidates(
        params=grid(params),
        pose_aa=grid(pose_aa),
        betas=cands.betas,
        cam=grid(new_cam),
        vertices=None if cands.vertices is None else turn(cands.vertices),
        joints=joints,
        keypoints3d=kp3d,
        joints_crop=grid(joints_crop),
        keypoints_crop=grid(keypoints_crop),
        joints_px=grid(crop_to_image(joints_crop, centre, size)),
        keypoints_px=grid(crop_to_image(keypoints_crop, centre, size)),
    )
