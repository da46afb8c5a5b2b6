"""Rotation representations: 6D, rotation matrix, axis-angle.

The 6D representation (Zhou et al. 2019) is the first two columns of the rotation
matrix, stored as (a1_x, a2_x, a1_y, a2_y, a1_z, a2_z) -- i.e. ``R[..., :, :2]``
flattened row-major -- and turned back into a matrix by Gram-Schmidt.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.errors import ShapeError


def rotation_6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """6D rotations to matrices.

    Args:
        d6: (..., 6) the first two matrix columns, row-major as ``R[..., :, :2]``.

    Returns:
        R: (..., 3, 3) rotation matrices.
    """
    if d6.shape[-1] != 6:
        raise ShapeError(f"6D rotations: expected last dimension 6, got shape {tuple(d6.shape)}")
    cols = d6.reshape(*d6.shape[:-1], 3, 2)
    a1, a2 = cols[..., 0], cols[..., 1]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_rotation_6d(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) to 6D (..., 6)."""
    if R.shape[-2:] != (3, 3):
        raise ShapeError(f"rotation matrices: expected (..., 3, 3), got shape {tuple(R.shape)}")
    return R[..., :, :2].reshape(*R.shape[:-2], 6)


def axis_angle_to_matrix(aa: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula, stable at zero angle.

    Args:
        aa: (..., 3) axis times angle in radians.

    Returns:
        R: (..., 3, 3).
    """
    if aa.shape[-1] != 3:
        raise ShapeError(f"axis-angle: expected last dimension 3, got shape {tuple(aa.shape)}")
    angle = aa.norm(dim=-1, keepdim=True)
    small = angle < 1e-6
    safe = torch.where(small, torch.ones_like(angle), angle)
    axis = aa / safe
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*aa.shape[:-1], 3, 3)
    s = torch.sin(angle)[..., None]
    c = torch.cos(angle)[..., None]
    eye = torch.eye(3, dtype=aa.dtype, device=aa.device).expand_as(K)
    R = eye + s * K + (1 - c) * (K @ K)
    # Near zero the first-order expansion keeps gradients finite.
    a = aa
    K0 = torch.stack([zero, -a[..., 2], a[..., 1], a[..., 2], zero, -a[..., 0], -a[..., 1], a[..., 0], zero], dim=-1)
    R0 = eye + K0.reshape(*aa.shape[:-1], 3, 3)
    return torch.where(small[..., None], R0, R)


def matrix_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) to axis-angle (..., 3), angle in [0, pi].

    Goes through unit quaternions, which stays accurate near 0 and near pi.
    """
    if R.shape[-2:] != (3, 3):
        raise ShapeError(f"rotation matrices: expected (..., 3, 3), got shape {tuple(R.shape)}")
    q = matrix_to_quaternion(R)
    w = q[..., :1]
    xyz = q[..., 1:]
    # Choose the hemisphere with w >= 0 so the angle is in [0, pi].
    sign = torch.where(w < 0, -torch.ones_like(w), torch.ones_like(w))
    w, xyz = w * sign, xyz * sign
    sin_half = xyz.norm(dim=-1, keepdim=True)
    angle = 2 * torch.atan2(sin_half, w)
    small = sin_half < 1e-7
    scale = torch.where(small, 2.0 / w.clamp(min=1e-7), angle / sin_half.clamp(min=1e-12))
    return xyz * scale


def matrix_to_quaternion(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) to unit quaternions (..., 4) as (w, x, y, z)."""
    m = R
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    cands = torch.stack(
        [
            torch.stack([1 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
            torch.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
            torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], m[..., 1, 2] + m[..., 2, 1]], -1),
            torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2]], -1),
        ],
        dim=-2,
    )
    # Each candidate row is 4 q_k q; pick the one with the largest |q_k| for stability.
    diag = torch.stack([1 + trace, 1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], 1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], 1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2]], -1)
    best = diag.argmax(dim=-1)
    q = torch.gather(cands, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    return torch.nn.functional.normalize(q, dim=-1)


def axis_angle_to_rotation_6d(aa: torch.Tensor) -> torch.Tensor:
    """Axis-angle (..., 3) to 6D (..., 6)."""
    return matrix_to_rotation_6d(axis_angle_to_matrix(aa))


def rotation_6d_to_axis_angle(d6: torch.Tensor) -> torch.Tensor:
    """6D (..., 6) to axis-angle (..., 3)."""
    return matrix_to_axis_angle(rotation_6d_to_matrix(d6))
