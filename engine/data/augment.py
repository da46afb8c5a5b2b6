"""Training augmentations, and the label maps that keep 3D labels true to the image.

Every random draw comes from ``augment_rng(seed, index, epoch)``, so a sample's
augmentation depends only on those three numbers: reproducible across runs, different
each epoch, and the same whichever DataLoader worker draws it.

Geometry (camera frame: OpenCV, x right, y down, z forward): turning the image content
by theta counter-clockwise on screen is the rotation ``rotation_3d(theta)`` about the
camera z axis, applied to the global orientation; mirroring the image left/right is the
mirror x -> -x, which swaps left and right joints and negates the y and z components of
every axis-angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from engine.data.crops import CropTransform, rotation_2d
from engine.data.joint_sets import SMPL24_FLIP, SPIN24_FLIP
from engine.errors import DataError, ShapeError


@dataclass(frozen=True)
class AugmentConfig:
    """How strongly to augment (0 switches an augmentation off).

    scale_jitter: crop side times 1 + N(0, 1) * this, clipped to 1 +- this.
    translation_jitter: crop centre moved by up to this share of the crop side (uniform).
    rotation_std: degrees; the angle is N(0, std) clipped to +- 2 std ...
    rotation_prob: ... drawn for this share of the samples, the rest stay upright.
    flip_prob: share of samples mirrored left/right.
    color_jitter: each RGB channel times a gain uniform in 1 +- this.
    occlusion_prob: share of samples with a random solid rectangle over the crop ...
    occlusion_size: ... whose sides are this (min, max) share of the crop side.
    """

    scale_jitter: float = 0.25
    translation_jitter: float = 0.05
    rotation_std: float = 30.0
    rotation_prob: float = 0.4
    flip_prob: float = 0.5
    color_jitter: float = 0.2
    occlusion_prob: float = 0.2
    occlusion_size: tuple[float, float] = (0.1, 0.4)

    def __post_init__(self) -> None:
        for name in ("rotation_prob", "flip_prob", "occlusion_prob"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise DataError(f"AugmentConfig.{name}: must be in [0, 1], got {v}")
        for name in ("scale_jitter", "color_jitter"):
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise DataError(f"AugmentConfig.{name}: must be in [0, 1), got {v}")
        if not (self.translation_jitter >= 0 and self.rotation_std >= 0):
            raise DataError("AugmentConfig: translation_jitter and rotation_std must be >= 0")
        lo, hi = self.occlusion_size
        if not 0 < lo <= hi <= 1:
            raise DataError(f"AugmentConfig.occlusion_size: need 0 < min <= max <= 1, got {self.occlusion_size}")


@dataclass(frozen=True)
class AugmentParams:
    """One sample's draw.

    scale: crop side multiplier. shift: (2,) crop centre offset, share of the crop side.
    rotation: degrees counter-clockwise. flip: mirror. color: (3,) RGB gains.
    occluder: x0, y0, x1, y1 as shares of the crop side, or None. occluder_color: RGB.
    """

    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    rotation: float = 0.0
    flip: bool = False
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    occluder: tuple[float, float, float, float] | None = None
    occluder_color: tuple[int, int, int] = (0, 0, 0)


def augment_rng(seed: int, index: int, epoch: int = 0) -> np.random.Generator:
    """The generator for one sample in one epoch."""
    return np.random.default_rng([int(seed), int(epoch), int(index)])


def sample_params(config: AugmentConfig, rng: np.random.Generator) -> AugmentParams:
    """Draw one sample's augmentation (always the same number of draws, in one order)."""
    u = rng.random(4)
    normal = rng.standard_normal(2)
    shift = rng.uniform(-1, 1, 2) * config.translation_jitter
    color = rng.uniform(1 - config.color_jitter, 1 + config.color_jitter, 3)
    box = rng.random(4)
    occ_color = rng.integers(0, 256, 3)
    scale = 1 + float(np.clip(normal[0], -1, 1)) * config.scale_jitter
    rotation = 0.0
    if u[0] < config.rotation_prob:
        rotation = float(np.clip(normal[1], -2, 2)) * config.rotation_std
    occluder = None
    if u[2] < config.occlusion_prob:
        lo, hi = config.occlusion_size
        w, h = lo + (hi - lo) * box[0], lo + (hi - lo) * box[1]
        x0, y0 = (1 - w) * box[2], (1 - h) * box[3]
        occluder = (float(x0), float(y0), float(x0 + w), float(y0 + h))
    return AugmentParams(
        scale=scale,
        shift=(float(shift[0]), float(shift[1])),
        rotation=rotation,
        flip=bool(u[1] < config.flip_prob),
        color=(float(color[0]), float(color[1]), float(color[2])),
        occluder=occluder,
        occluder_color=(int(occ_color[0]), int(occ_color[1]), int(occ_color[2])),
    )


def jitter_transform(t: CropTransform, p: AugmentParams) -> CropTransform:
    """The crop moved, resized, turned and mirrored as ``p`` says."""
    return CropTransform(
        center=t.center + np.asarray(p.shift) * t.size,
        size=t.size * p.scale,
        out_size=t.out_size,
        rotation=t.rotation + p.rotation,
        flip=t.flip != p.flip,
    )


def apply_color(crop: np.ndarray, p: AugmentParams) -> np.ndarray:
    """(S, S, 3) uint8 with each channel scaled by its gain."""
    return np.clip(crop.astype(np.float32) * np.asarray(p.color, np.float32), 0, 255).astype(np.uint8)


def apply_occluder(crop: np.ndarray, p: AugmentParams) -> np.ndarray:
    """(S, S, 3) uint8 with the occluding rectangle painted in (a copy)."""
    if p.occluder is None:
        return crop
    n = crop.shape[0]
    x0, y0, x1, y1 = (int(round(v * n)) for v in p.occluder)
    out = crop.copy()
    out[y0:y1, x0:x1] = p.occluder_color
    return out


def rotation_3d(degrees: float) -> np.ndarray:
    """(3, 3) camera-frame rotation about z that turns the image ``degrees`` CCW on screen."""
    r = np.eye(3)
    r[:2, :2] = rotation_2d(degrees)
    return r


def _check(name: str, x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.shape != shape:
        raise ShapeError(f"{name}: expected shape {shape}, got {x.shape}")
    return x


def rotate_pose(pose: np.ndarray, degrees: float) -> np.ndarray:
    """(72,) SMPL axis-angle with the global orientation turned with the image."""
    out = _check("pose", pose, (72,)).copy()
    out[:3] = (Rotation.from_matrix(rotation_3d(degrees)) * Rotation.from_rotvec(out[:3])).as_rotvec()
    return out.astype(np.float32)


def flip_pose(pose: np.ndarray) -> np.ndarray:
    """(72,) SMPL axis-angle of the mirrored body (left/right swapped, y and z negated)."""
    p = _check("pose", pose, (72,)).reshape(24, 3)[list(SMPL24_FLIP)].copy()
    p[:, 1:] *= -1
    return p.reshape(72).astype(np.float32)


def rotate_joints3d(joints: np.ndarray, degrees: float) -> np.ndarray:
    """(J, 4) joints (metres + confidence) turned with the image about the camera z axis."""
    j = np.array(joints, np.float64)
    j[:, :3] = j[:, :3] @ rotation_3d(degrees).T
    return j.astype(np.float32)


def flip_joints3d(joints: np.ndarray, flip_perm: tuple[int, ...] = SPIN24_FLIP) -> np.ndarray:
    """(J, 4) joints of the mirrored body: x negated, left/right swapped."""
    j = np.array(joints, np.float64)[list(flip_perm)]
    j[:, 0] *= -1
    return j.astype(np.float32)


def camera_for_crop(cam: np.ndarray, src_center: np.ndarray, src_size: float,
                    dst_center: np.ndarray, dst_size: float) -> np.ndarray:
    """A weak-perspective camera (3,) for one upright crop re-expressed for another.

    Both crops are (center (2,) px, side px); see ``engine.body.projection``.
    """
    s, tx, ty = _check("camera", cam, (3,))
    t = np.array([tx, ty]) + 2 * (np.asarray(src_center, np.float64) - dst_center) / (src_size * s)
    return np.array([s * src_size / dst_size, t[0], t[1]], np.float32)


def rotate_camera(cam: np.ndarray, degrees: float, root: np.ndarray) -> np.ndarray:
    """The camera (3,) of a crop turned ``degrees`` CCW, for a pose rotated by rotate_pose.

    root: (3,) the body's rest-pose root joint, metres (the point the global
        orientation turns about, so the body's projection turns about the crop centre
        only when the translation moves by (R - I) root).
    """
    s, tx, ty = _check("camera", cam, (3,))
    r = rotation_2d(degrees)
    j0 = _check("root", root, (3,))[:2]
    t = r @ (np.array([tx, ty]) + j0) - j0
    return np.array([s, t[0], t[1]], np.float32)


def flip_camera(cam: np.ndarray) -> np.ndarray:
    """The camera (3,) of a mirrored crop: tx negated (exact for a left/right-symmetric body)."""
    s, tx, ty = _check("camera", cam, (3,))
    return np.array([s, -tx, ty], np.float32)

