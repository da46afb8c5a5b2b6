"""A few poses in SMPL's convention, by name, for checks, demos and contact sheets.

SMPL convention (body frame: Y up, facing +Z, the body's left at +X): a rotation is
axis-angle in the parent's frame at rest. So hip flexion (thigh forward) is a negative
rotation about x, knee flexion a positive one; raising the left arm from the T-pose is a
positive rotation about z at the left shoulder, and the right arm mirrors it.
"""

from __future__ import annotations

import math

import numpy as np

from engine.body.model import SMPL_JOINT_NAMES

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}


def _deg(x: float) -> float:
    return math.radians(x)


def _pose(**joints: tuple[float, float, float]) -> np.ndarray:
    """(24, 3) axis-angle from {joint_name: (x, y, z) degrees}."""
    out = np.zeros((24, 3), np.float32)
    for name, xyz in joints.items():
        out[_J[name]] = [_deg(v) for v in xyz]
    return out


NAMED_POSES: dict[str, np.ndarray] = {
    "t_pose": _pose(),
    "a_pose": _pose(left_shoulder=(0, 0, -45), right_shoulder=(0, 0, 45)),
    "raise_left_arm": _pose(left_shoulder=(0, 0, 80), right_shoulder=(0, 0, 70)),
    "bend_right_knee": _pose(right_knee=(90, 0, 0), left_shoulder=(0, 0, -70), right_shoulder=(0, 0, 70)),
    "turn_head": _pose(neck=(0, 25, 0), head=(0, 35, 0), left_shoulder=(0, 0, -70), right_shoulder=(0, 0, 70)),
    "sit": _pose(
        left_hip=(-90, 0, 0), right_hip=(-90, 0, 0), left_knee=(90, 0, 0), right_knee=(90, 0, 0),
        left_shoulder=(0, 0, -65), right_shoulder=(0, 0, 65), left_elbow=(0, -40, 0), right_elbow=(0, 40, 0),
    ),
    "squat": _pose(
        left_hip=(-110, 0, -15), right_hip=(-110, 0, 15), left_knee=(130, 0, 0), right_knee=(130, 0, 0),
        left_ankle=(-25, 0, 0), right_ankle=(-25, 0, 0), spine1=(20, 0, 0),
        left_shoulder=(0, -80, 0), right_shoulder=(0, 80, 0),
    ),
    "walk": _pose(
        left_hip=(-25, 0, 0), right_hip=(20, 0, 0), right_knee=(25, 0, 0),
        left_shoulder=(0, 0, -75), right_shoulder=(0, 0, 75),
        left_collar=(0, 0, 0), left_elbow=(0, -15, 0), right_elbow=(0, 15, 0),
    ),
    "run": _pose(
        left_hip=(-60, 0, 0), left_knee=(70, 0, 0), right_hip=(25, 0, 0), right_knee=(60, 0, 0),
        spine1=(10, 0, 0), left_shoulder=(0, 45, -70), right_shoulder=(0, 45, 70),
        left_elbow=(0, -90, 0), right_elbow=(0, 90, 0),
    ),
    "arms_forward": _pose(left_shoulder=(0, -90, 0), right_shoulder=(0, 90, 0)),
    "bend_forward": _pose(
        pelvis=(40, 0, 0), spine1=(15, 0, 0), spine2=(15, 0, 0), left_hip=(-40, 0, 0), right_hip=(-40, 0, 0),
        left_shoulder=(0, 0, -80), right_shoulder=(0, 0, 80),
    ),
    "kneel": _pose(
        left_hip=(-90, 0, 0), left_knee=(90, 0, 0), right_hip=(0, 0, 0), right_knee=(90, 0, 0),
        right_ankle=(30, 0, 0), left_shoulder=(0, 0, -60), right_shoulder=(0, 0, 60),
    ),
}
