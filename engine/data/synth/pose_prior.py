"""Plausible body poses: a library of hand-made key poses, blended and perturbed within limits.

Poses are written per joint as Euler angles in degrees, ``(x, y, z)`` with
``R = Rx(x) @ Ry(y) @ Rz(z)`` in the parent's frame at rest (SMPL convention, see
``engine.body.named_poses``: Y up, facing +Z, the body's left at +X). For a joint that
turns about one axis the Euler angles equal the axis-angle vector, so the two
conventions read the same for hinges: hip flexion is negative x, knee flexion positive
x, the left elbow bends forward with negative y (the right with positive y), the left arm
rises with positive z. Raising the arm first (z) and then swinging it (x) is why the
Euler order matters for shoulders.

A sample mixes two key poses (each possibly mirrored left/right) with a random convex
weight, adds Gaussian noise scaled per joint, and clips every angle to per-joint limits,
so knees and elbows bend one way only. The root entry (joint 0) is a body tilt (bending
forward, leaning), composed by the scene with the global orientation it samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from engine.body.model import SMPL_JOINT_NAMES
from engine.data.joint_sets import SMPL24_FLIP

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}


def _pose(**joints: tuple[float, float, float]) -> np.ndarray:
    """(24, 3) Euler degrees from {joint_name: (x, y, z)}; unnamed joints stay at rest."""
    out = np.zeros((24, 3), np.float64)
    for name, xyz in joints.items():
        out[_J[name]] = xyz
    return out


def _arms(l_sh=(0, 0, -75), r_sh=None, l_el=(0, -10, 0), r_el=None, **rest):
    """Arms given for the left side and mirrored to the right unless the right is given."""
    r_sh = r_sh if r_sh is not None else (l_sh[0], -l_sh[1], -l_sh[2])
    r_el = r_el if r_el is not None else (l_el[0], -l_el[1], -l_el[2])
    return dict(left_shoulder=l_sh, right_shoulder=r_sh, left_elbow=l_el, right_elbow=r_el, **rest)


KEY_POSES: dict[str, np.ndarray] = {
    "stand": _pose(**_arms()),
    "relaxed": _pose(**_arms(l_sh=(5, 0, -70), l_el=(0, -25, 0), r_sh=(-5, 0, 72), r_el=(0, 15, 0)),
                     left_hip=(0, 0, 6), right_hip=(-6, 0, -2), right_knee=(12, 0, 0),
                     spine1=(0, 0, -5), spine3=(0, 0, 5), head=(5, 12, 3)),
    "walk_contact": _pose(**_arms(l_sh=(25, 0, -75), r_sh=(-25, 0, 75), l_el=(0, -10, 0), r_el=(0, 30, 0)),
                          left_hip=(-28, 0, 0), left_knee=(5, 0, 0), right_hip=(15, 0, 0), right_knee=(25, 0, 0),
                          right_ankle=(15, 0, 0), left_ankle=(-10, 0, 0)),
    "walk_passing": _pose(**_arms(l_sh=(5, 0, -76), r_sh=(-8, 0, 76), l_el=(0, -15, 0), r_el=(0, 20, 0)),
                          left_hip=(-35, 0, 0), left_knee=(60, 0, 0), right_hip=(3, 0, 0), right_knee=(5, 0, 0),
                          left_ankle=(20, 0, 0)),
    "run_stride": _pose(**_arms(l_sh=(45, 0, -70), r_sh=(-50, 0, 70), l_el=(0, -90, 0), r_el=(0, 95, 0)),
                        left_hip=(-60, 0, 0), left_knee=(70, 0, 0), right_hip=(25, 0, 0), right_knee=(60, 0, 0),
                        right_ankle=(25, 0, 0), spine1=(10, 0, 0), pelvis=(10, 0, 0)),
    "run_flight": _pose(**_arms(l_sh=(-40, 0, -70), r_sh=(35, 0, 70), l_el=(0, -100, 0), r_el=(0, 85, 0)),
                        left_hip=(15, 0, 0), left_knee=(100, 0, 0), right_hip=(-45, 0, 0), right_knee=(85, 0, 0),
                        left_ankle=(30, 0, 0), spine1=(8, 0, 0), pelvis=(12, 0, 0)),
    "sit_chair": _pose(**_arms(l_sh=(-35, 0, -75), l_el=(0, -55, 0)),
                       left_hip=(-90, 0, 5), right_hip=(-90, 0, -5), left_knee=(90, 0, 0), right_knee=(90, 0, 0)),
    "sit_floor": _pose(**_arms(l_sh=(35, 0, -80), l_el=(0, -5, 0)),
                       left_hip=(-85, 0, 8), right_hip=(-85, 0, -8), left_knee=(10, 0, 0), right_knee=(15, 0, 0),
                       spine1=(-5, 0, 0), pelvis=(-10, 0, 0)),
    "sit_knees_up": _pose(**_arms(l_sh=(-50, 0, -70), l_el=(0, -70, 0)),
                          left_hip=(-110, 0, 10), right_hip=(-110, 0, -10), left_knee=(120, 0, 0),
                          right_knee=(120, 0, 0), spine1=(15, 0, 0), spine2=(10, 0, 0), neck=(-10, 0, 0)),
    "squat": _pose(**_arms(l_sh=(0, -80, 0), l_el=(0, -10, 0)),
                   left_hip=(-110, 0, -15), right_hip=(-110, 0, 15), left_knee=(130, 0, 0), right_knee=(130, 0, 0),
                   left_ankle=(-25, 0, 0), right_ankle=(-25, 0, 0), spine1=(20, 0, 0), pelvis=(15, 0, 0)),
    "crouch": _pose(**_arms(l_sh=(-40, 0, -70), l_el=(0, -60, 0)),
                    left_hip=(-125, 0, -10), right_hip=(-120, 0, 10), left_knee=(140, 0, 0), right_knee=(140, 0, 0),
                    left_ankle=(-30, 0, 0), right_ankle=(-30, 0, 0), spine1=(25, 0, 0), spine2=(15, 0, 0),
                    pelvis=(30, 0, 0), neck=(-20, 0, 0)),
    "kneel_one": _pose(**_arms(l_sh=(-30, 0, -75), l_el=(0, -40, 0)),
                       left_hip=(-90, 0, 0), left_knee=(90, 0, 0), right_hip=(0, 0, 0), right_knee=(90, 0, 0),
                       right_ankle=(30, 0, 0)),
    "kneel_both": _pose(**_arms(l_sh=(10, 0, -75), l_el=(0, -20, 0)),
                        left_knee=(90, 0, 0), right_knee=(90, 0, 0), left_ankle=(35, 0, 0), right_ankle=(35, 0, 0),
                        left_hip=(-10, 0, 5), right_hip=(-10, 0, -5)),
    "reach_up": _pose(**_arms(l_sh=(0, 0, 80), l_el=(0, -10, 0), r_sh=(0, 0, 75), r_el=(0, 10, 0)),
                      left_collar=(0, 0, 15), spine1=(0, 0, -5), spine2=(0, 0, -5), neck=(-15, 0, 0),
                      right_knee=(5, 0, 0)),
    "arms_raised": _pose(**_arms(l_sh=(0, 0, 70), l_el=(0, -15, 0)),
                         left_collar=(0, 0, 12), right_collar=(0, 0, -12), neck=(-15, 0, 0),
                         left_hip=(0, 0, 8), right_hip=(0, 0, -8)),
    "reach_forward": _pose(**_arms(l_sh=(0, -80, -10), l_el=(0, -10, 0)),
                           spine1=(15, 0, 0), spine2=(10, 0, 0), left_hip=(-20, 0, 0), right_hip=(-10, 0, 0),
                           pelvis=(10, 0, 0), right_knee=(10, 0, 0)),
    "bend_forward": _pose(**_arms(l_sh=(-65, 0, -75), l_el=(0, -5, 0)),
                          pelvis=(55, 0, 0), left_hip=(-60, 0, 0), right_hip=(-60, 0, 0), spine1=(12, 0, 0),
                          spine2=(12, 0, 0), neck=(-20, 0, 0)),
    "jump_tuck": _pose(**_arms(l_sh=(0, 0, 35), l_el=(0, -30, 0)),
                       left_hip=(-75, 0, 5), right_hip=(-75, 0, -5), left_knee=(110, 0, 0), right_knee=(110, 0, 0),
                       left_ankle=(30, 0, 0), right_ankle=(30, 0, 0)),
    "jump_star": _pose(**_arms(l_sh=(0, 0, 40), l_el=(0, -5, 0)),
                       left_hip=(0, 0, 30), right_hip=(0, 0, -30), left_ankle=(35, 0, 0), right_ankle=(35, 0, 0)),
    "lunge": _pose(**_arms(l_sh=(0, -70, -15), l_el=(0, -15, 0)),
                   left_hip=(-85, 0, 0), left_knee=(90, 0, 0), right_hip=(35, 0, 0), right_knee=(15, 0, 0),
                   right_ankle=(-20, 0, 0), left_ankle=(-10, 0, 0)),
    "wave": _pose(**_arms(l_sh=(0, 0, -75), l_el=(0, -10, 0), r_sh=(-90, 0, -10), r_el=(0, 95, 0)),
                  head=(0, -10, 0), right_hip=(0, 0, -4)),
    "arms_crossed": _pose(**_arms(l_sh=(0, -45, -72), l_el=(0, -105, 0)), head=(-5, 0, 0)),
    "phone": _pose(**_arms(l_sh=(-25, -20, -72), l_el=(0, -120, 0), r_sh=(10, 0, 75), r_el=(0, 15, 0)),
                   neck=(25, 0, 0), head=(15, 0, 0)),
    "throw": _pose(**_arms(l_sh=(-40, -40, 10), l_el=(0, -20, 0), r_sh=(80, 0, -20), r_el=(0, 80, 0)),
                   spine1=(0, -15, 0), spine2=(0, -15, 0), left_hip=(-30, 0, 0), right_hip=(15, 0, 0),
                   right_knee=(20, 0, 0)),
    "side_bend": _pose(**_arms(l_sh=(0, 0, 75), l_el=(0, -20, 0), r_sh=(0, 0, 70), r_el=(0, 20, 0)),
                       spine1=(0, 0, -12), spine2=(0, 0, -12), spine3=(0, 0, -10), neck=(0, 0, -8),
                       left_hip=(0, 0, 5), right_hip=(0, 0, -5)),
    "climb_step": _pose(**_arms(l_sh=(0, -20, 60), l_el=(0, -30, 0), r_sh=(20, 0, 60), r_el=(0, 40, 0)),
                        left_hip=(-70, 0, 5), left_knee=(85, 0, 0), right_hip=(10, 0, 0), right_ankle=(15, 0, 0),
                        spine1=(10, 0, 0)),
}

# Per-joint Euler limits in degrees for the left side and the spine/head, [(lo, hi)] for
# x, y, z. The right side mirrors the left (y and z negated). The root (pelvis) is a body
# tilt and the scene bounds it instead.
_LEFT_LIMITS: dict[str, tuple[tuple[float, float], ...]] = {
    "left_hip": ((-130, 45), (-40, 40), (-25, 60)),
    "left_knee": ((0, 150), (-8, 8), (-8, 8)),
    "left_ankle": ((-40, 50), (-20, 20), (-15, 15)),
    "left_foot": ((-20, 20), (-10, 10), (-10, 10)),
    "spine1": ((-25, 45), (-30, 30), (-25, 25)),
    "spine2": ((-20, 30), (-25, 25), (-20, 20)),
    "spine3": ((-15, 25), (-25, 25), (-20, 20)),
    "neck": ((-35, 45), (-45, 45), (-30, 30)),
    "head": ((-30, 30), (-45, 45), (-25, 25)),
    "left_collar": ((-15, 15), (-25, 20), (-15, 25)),
    "left_shoulder": ((-110, 100), (-110, 80), (-90, 110)),
    "left_elbow": ((-40, 40), (-150, 0), (-10, 10)),
    "left_wrist": ((-45, 45), (-60, 60), (-45, 45)),
    "left_hand": ((-20, 20), (-20, 20), (-20, 20)),
}

# How much a joint moves under perturbation, relative to the domain's noise in degrees.
_NOISE_SCALE: dict[str, float] = {
    "left_hip": 1.0, "left_knee": 1.0, "left_ankle": 0.6, "left_foot": 0.3,
    "spine1": 0.4, "spine2": 0.3, "spine3": 0.3, "neck": 0.6, "head": 0.7,
    "left_collar": 0.3, "left_shoulder": 1.5, "left_elbow": 1.2, "left_wrist": 0.8, "left_hand": 0.4,
}


def _right(name: str) -> str | None:
    return name.replace("left_", "right_") if name.startswith("left_") else None


def _limit_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.full((24, 3), -180.0)
    hi = np.full((24, 3), 180.0)
    scale = np.zeros(24)
    for name, bounds in _LEFT_LIMITS.items():
        j = _J[name]
        lo[j] = [b[0] for b in bounds]
        hi[j] = [b[1] for b in bounds]
        scale[j] = _NOISE_SCALE[name]
        right = _right(name)
        if right is not None:
            r = _J[right]
            lo[r] = [bounds[0][0], -bounds[1][1], -bounds[2][1]]
            hi[r] = [bounds[0][1], -bounds[1][0], -bounds[2][0]]
            scale[r] = scale[j]
    return lo, hi, scale


LIMITS_LO, LIMITS_HI, NOISE_SCALE = _limit_table()
"""(24, 3) Euler-degree bounds per joint and axis, and (24,) noise scale per joint."""


def mirror_euler(pose: np.ndarray) -> np.ndarray:
    """Swap left and right of an (..., 24, 3) Euler pose: reflect through the body's x=0 plane."""
    out = pose[..., list(SMPL24_FLIP), :].copy()
    out[..., 1:] *= -1
    return out


def euler_to_axis_angle(euler_deg: np.ndarray) -> np.ndarray:
    """(..., 3) Euler degrees (R = Rx Ry Rz) to (..., 3) axis-angle radians."""
    flat = np.asarray(euler_deg, np.float64).reshape(-1, 3)
    return Rotation.from_euler("XYZ", flat, degrees=True).as_rotvec().reshape(np.shape(euler_deg))


@dataclass(frozen=True)
class PoseSpread:
    """How far samples stray from the key poses.

    noise_deg: standard deviation of the per-joint noise, degrees, before per-joint scaling.
    tilt_deg: standard deviation of the extra body tilt (root), degrees.
    keep_fraction: share of samples that stay exactly between two key poses (noise-free
        limbs) so the library's shapes stay well represented.
    """

    noise_deg: float = 8.0
    tilt_deg: float = 4.0
    keep_fraction: float = 0.1


def sample_euler(rng: np.random.Generator, spread: PoseSpread = PoseSpread()) -> np.ndarray:
    """One pose as (24, 3) Euler degrees: root tilt first, then the 23 body joints.

    A convex mix of two key poses (each mirrored with probability 1/2), perturbed by
    Gaussian noise and clipped to ``LIMITS_LO``/``LIMITS_HI`` (root unclipped).
    """
    names = list(KEY_POSES)
    a, b = rng.choice(len(names), size=2, replace=False)
    pa, pb = KEY_POSES[names[a]], KEY_POSES[names[b]]
    if rng.random() < 0.5:
        pa = mirror_euler(pa)
    if rng.random() < 0.5:
        pb = mirror_euler(pb)
    # Weights near 0 or 1 keep a key pose recognisable; a uniform weight blends freely.
    w = rng.beta(0.6, 0.6)
    pose = (1 - w) * pa + w * pb
    noise = rng.normal(size=(24, 3)) * spread.noise_deg * NOISE_SCALE[:, None]
    if rng.random() < spread.keep_fraction:
        noise[1:] = 0.0
    noise[0] = rng.normal(size=3) * spread.tilt_deg
    pose = pose + noise
    pose[1:] = np.clip(pose[1:], LIMITS_LO[1:], LIMITS_HI[1:])
    return pose


def sample_pose(rng: np.random.Generator, spread: PoseSpread = PoseSpread()) -> np.ndarray:
    """One pose as (24, 3) axis-angle radians (root = body tilt, body frame); see sample_euler."""
    return euler_to_axis_angle(sample_euler(rng, spread))
