"""Realistic pseudo-label errors, to test data cleaning: only the 3D label goes wrong.

A bad pseudo-labeller fits a body that matches the 2D evidence but not the person. The
kinds of error here are the ones such fits make:

* ``limb_swap``: the left and right arms (or legs) exchanged, each mirrored onto the
  other side.
* ``joint_flip``: a knee or elbow bent the wrong way, or the torso twisted 180 degrees.
* ``depth_ambiguity``: the whole body reflected through the image plane (toward/away
  from the camera): every axis-angle vector (x, y, z) becomes (-x, -y, z), which is
  M R M with M = diag(1, 1, -1); the joints move to their mirror images in depth, so the
  2D projection stays nearly the same while the body faces the other way.
* ``shape``: betas off by ``shape_error`` (RMS per coefficient).
* ``global_orient``: the global orientation turned by ``orient_error_deg`` about a
  random axis.

Poses are SMPL axis-angle (N, 72) with the camera-oriented global orientation first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from engine.errors import DataError

CORRUPTION_KINDS = ("limb_swap", "joint_flip", "depth_ambiguity", "shape", "global_orient")

_LEFT_ARM, _RIGHT_ARM = (13, 16, 18, 20, 22), (14, 17, 19, 21, 23)
_LEFT_LEG, _RIGHT_LEG = (1, 4, 7, 10), (2, 5, 8, 11)
_MIRROR = np.array([1.0, -1.0, -1.0])
_MIN_BEND = np.radians(35.0)


@dataclass(frozen=True)
class CorruptionResult:
    """pose: (N, 72) float32 and betas: (N, 10) float32 labels after corruption;
    mask: (N,) bool rows changed; kind: (N,) str, the error of each row ('' if clean)."""

    pose: np.ndarray
    betas: np.ndarray
    mask: np.ndarray
    kind: np.ndarray


def _swap(p: np.ndarray, left: tuple[int, ...], right: tuple[int, ...]) -> np.ndarray:
    out = p.copy()
    out[list(left)] = p[list(right)] * _MIRROR
    out[list(right)] = p[list(left)] * _MIRROR
    return out


def _limb_swap(p: np.ndarray) -> np.ndarray | None:
    """Swap the more asymmetric limb pair; None when the pose is too symmetric to matter."""
    options = [_swap(p, _LEFT_ARM, _RIGHT_ARM), _swap(p, _LEFT_LEG, _RIGHT_LEG)]
    change = [np.linalg.norm(o - p, axis=1).sum() for o in options]
    best = int(np.argmax(change))
    return options[best] if change[best] > 0.35 else None


def _joint_flip(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = p.copy()
    which = rng.integers(3)
    if which == 0:
        knee = 4 if rng.random() < 0.5 else 5
        out[knee, 0] = -max(abs(out[knee, 0]), _MIN_BEND)
    elif which == 1:
        elbow = 18 if rng.random() < 0.5 else 19
        sign = 1.0 if elbow == 18 else -1.0  # the left elbow bends with -y, the right with +y
        out[elbow, 1] = sign * max(abs(out[elbow, 1]), _MIN_BEND)
    else:
        twist = Rotation.from_euler("y", 180, degrees=True) * Rotation.from_rotvec(out[3])
        out[3] = twist.as_rotvec()
    return out


def _depth_flip(p: np.ndarray) -> np.ndarray:
    return p * np.array([-1.0, -1.0, 1.0])


def _orient(p: np.ndarray, rng: np.random.Generator, degrees: float) -> np.ndarray:
    out = p.copy()
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    turn = Rotation.from_rotvec(axis * np.radians(degrees))
    out[0] = (turn * Rotation.from_rotvec(p[0])).as_rotvec()
    return out


def corrupt_labels(
    pose: np.ndarray,
    betas: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    kinds: tuple[str, ...] = CORRUPTION_KINDS,
    orient_error_deg: float = 30.0,
    shape_error: float = 1.0,
) -> CorruptionResult:
    """Replace round(fraction * N) labels, chosen at random, with realistic errors.

    Args:
        pose: (N, 72) axis-angle radians. betas: (N, 10).
        fraction: share of rows to corrupt, in [0, 1].
        rng: the generator that picks rows, kinds and error details.
        kinds: the errors to draw from, uniformly (see the module docstring).
        orient_error_deg: size of ``global_orient`` errors.
        shape_error: RMS per-coefficient size of ``shape`` errors.

    Returns:
        CorruptionResult; rows outside ``mask`` are returned unchanged. A ``limb_swap``
        drawn for a nearly symmetric pose becomes a ``joint_flip`` (the kind records it).

    Raises:
        DataError: bad shapes, fraction outside [0, 1], or an unknown kind.
    """
    pose = np.asarray(pose, np.float64)
    betas = np.asarray(betas, np.float64)
    n = len(pose)
    if pose.shape != (n, 72) or betas.shape != (n, 10):
        raise DataError(f"corrupt_labels: expected pose (N, 72) and betas (N, 10), got {pose.shape} and {betas.shape}")
    if not 0.0 <= fraction <= 1.0:
        raise DataError(f"corrupt_labels: fraction must be in [0, 1], got {fraction}")
    unknown = [k for k in kinds if k not in CORRUPTION_KINDS]
    if unknown or not kinds:
        raise DataError(f"corrupt_labels: unknown kinds {unknown} (choose from {', '.join(CORRUPTION_KINDS)})")
    out_pose = pose.reshape(n, 24, 3).copy()
    out_betas = betas.copy()
    mask = np.zeros(n, bool)
    kind = np.full(n, "", dtype="<U16")
    rows = np.sort(rng.choice(n, size=int(round(fraction * n)), replace=False))
    for i in rows:
        k = kinds[int(rng.integers(len(kinds)))]
        p = out_pose[i]
        if k == "limb_swap":
            swapped = _limb_swap(p)
            if swapped is None:
                k, swapped = "joint_flip", _joint_flip(p, rng)
            out_pose[i] = swapped
        elif k == "joint_flip":
            out_pose[i] = _joint_flip(p, rng)
        elif k == "depth_ambiguity":
            out_pose[i] = _depth_flip(p)
        elif k == "global_orient":
            out_pose[i] = _orient(p, rng, orient_error_deg)
        else:
            delta = rng.normal(size=10)
            out_betas[i] = betas[i] + delta * (shape_error / np.sqrt(np.mean(delta**2)))
        mask[i] = True
        kind[i] = k
    return CorruptionResult(
        pose=out_pose.reshape(n, 72).astype(np.float32),
        betas=out_betas.astype(np.float32),
        mask=mask,
        kind=kind,
    )
