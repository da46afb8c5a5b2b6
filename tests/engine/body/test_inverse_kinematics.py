"""HybrIK's analytic IK on the bundled open body: pose -> 29 joints + twists -> pose."""

import math

import pytest
import torch

from engine.body.inverse_kinematics import (
    inverse_kinematics,
    joints_from_uvd,
    leaf_vertices,
    pose_to_joints_and_twists,
    uvd_from_joints,
)
from engine.body.model import BodyModel
from engine.body.rotations import axis_angle_to_matrix
from engine.errors import ShapeError


@pytest.fixture(scope="module")
def body():
    return BodyModel()


def _angle_deg(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B, 24) angle in degrees between two (B, 72) axis-angle poses, joint by joint."""
    Ra = axis_angle_to_matrix(a.reshape(-1, 24, 3))
    Rb = axis_angle_to_matrix(b.reshape(-1, 24, 3))
    cos = (((Ra.transpose(-1, -2) @ Rb).diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2).clamp(-1, 1)
    return torch.rad2deg(torch.arccos(cos))


def _random_pose(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 72, generator=g, dtype=torch.float64) * 0.5, torch.randn(n, 10, generator=g, dtype=torch.float64)


def test_round_trip_recovers_pose_and_joints(body):
    pose, betas = _random_pose(6, 0)
    joints, twists = pose_to_joints_and_twists(body, pose, betas)
    assert joints.shape == (6, 29, 3) and twists.shape == (6, 23)
    recovered = inverse_kinematics(body, joints, twists, betas)
    again, _ = pose_to_joints_and_twists(body, recovered, betas)
    assert (again - joints).norm(dim=-1).max() < 1e-3  # metres: under 1 mm, leaves included
    err = _angle_deg(pose, recovered)
    assert err.max() < 0.01, err


def test_cos_sin_twists_and_uvd_form_give_the_same_pose(body):
    pose, betas = _random_pose(3, 1)
    joints, twists = pose_to_joints_and_twists(body, pose, betas)
    cam = torch.tensor([[0.9, 0.05, -0.1], [1.2, 0.0, 0.2], [0.7, -0.1, 0.0]], dtype=torch.float64)
    back = joints_from_uvd(uvd_from_joints(joints, cam), cam)
    pairs = torch.stack([twists.cos(), twists.sin()], dim=-1)
    recovered = inverse_kinematics(body, back, pairs, betas)
    assert _angle_deg(pose, recovered).max() < 0.01


def test_twist_turns_a_limb_about_its_bone_without_moving_joints(body):
    pose, betas = _random_pose(1, 2)
    joints, twists = pose_to_joints_and_twists(body, pose, betas)
    turned = twists.clone()
    turned[0, 18 - 1] += math.pi / 3  # the left elbow: forearm turned by 60 degrees
    recovered = inverse_kinematics(body, joints, turned, betas)
    again, again_twists = pose_to_joints_and_twists(body, recovered, betas)
    assert (again[:, :24] - joints[:, :24]).norm(dim=-1).max() < 1e-3
    assert _angle_deg(pose, recovered)[0, 18] == pytest.approx(60, abs=0.01)
    assert again_twists[0, 17] == pytest.approx(float(turned[0, 17]), abs=1e-6)


def test_leaf_joints_are_distinct_vertices_at_the_chain_ends(body):
    leaves = leaf_vertices(body)
    assert len(set(leaves)) == 5
    rest = body.v_template[list(leaves)]
    head_top, left_tip, right_tip = rest[0], rest[1], rest[2]
    assert head_top[1] > body.J_template[15, 1]  # above the head joint (Y up)
    assert left_tip[0] * right_tip[0] < 0  # finger tips on opposite sides


def test_bad_shapes_are_refused_with_a_message(body):
    with pytest.raises(ShapeError, match="joints: expected shape"):
        inverse_kinematics(body, torch.zeros(2, 24, 3), torch.zeros(2, 23))
    with pytest.raises(ShapeError, match="twists"):
        inverse_kinematics(body, torch.zeros(2, 29, 3), torch.zeros(2, 22))
    with pytest.raises(ShapeError, match="scale s must be positive"):
        joints_from_uvd(torch.zeros(1, 29, 3), torch.tensor([[0.0, 0.0, 0.0]]))
