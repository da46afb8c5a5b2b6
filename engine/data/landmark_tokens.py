"""The pose detector's 3D output as model input: one vector per BlazePose landmark.

A detector-conditioned model (``detector_inputs`` in its checkpoint) reads, besides the
crop and the detected COCO-17 keypoints, the 33 BlazePose world landmarks with each
landmark's visibility and presence. A real photo and a training render give the same
kind of input because both come from the same detector (``engine.data.detector_cache``
runs it on every render); where it found nobody, every landmark is marked missing
rather than filled in from ground truth.

Each landmark becomes ``TOKEN_DIM`` = 6 numbers: world x, y, z (metres, origin at the
hip midpoint, camera axes: x right, y down, z away), visibility, presence (both in
[0, 1]) and found (1 when the detector found the person, else the whole row is 0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.data.augment import rotation_3d
from engine.detect.keypoints import BLAZEPOSE_NAMES
from engine.errors import ShapeError

if TYPE_CHECKING:
    import torch

NUM_LANDMARKS = len(BLAZEPOSE_NAMES)
TOKEN_DIM = 6


def _mirror(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[5:]
    if name.startswith("right_"):
        return "left_" + name[6:]
    return name.replace("left", "@").replace("right", "left").replace("@", "right")


BLAZEPOSE_FLIP: tuple[int, ...] = tuple(BLAZEPOSE_NAMES.index(_mirror(n)) for n in BLAZEPOSE_NAMES)
"""Index of each landmark's mirror image (left <-> right)."""


def landmark_tokens(
    world: np.ndarray | None, visibility: np.ndarray | None, presence: np.ndarray | None
) -> np.ndarray:
    """The (33, 6) float32 input of one person; all zeros (missing) when ``world`` is None.

    world: (33, 3) metres. visibility, presence: (33,) in [0, 1]; None counts as 1 (an
    older record that kept the world landmarks but not the probabilities).
    """
    out = np.zeros((NUM_LANDMARKS, TOKEN_DIM), np.float32)
    if world is None:
        return out
    w = np.asarray(world, np.float32)
    if w.shape != (NUM_LANDMARKS, 3) or not np.isfinite(w).all():
        raise ShapeError(f"world landmarks: expected finite ({NUM_LANDMARKS}, 3), got {w.shape}")
    out[:, :3] = w
    out[:, 3] = 1.0 if visibility is None else np.asarray(visibility, np.float32)
    out[:, 4] = 1.0 if presence is None else np.asarray(presence, np.float32)
    out[:, 5] = 1.0
    return out


def turn_tokens(tokens: np.ndarray, degrees: float, flip: bool) -> np.ndarray:
    """Tokens (33, 6) of a crop turned ``degrees`` CCW about the camera axis, then mirrored.

    The same order as the dataset's pose and joint augmentation (rotate, then flip), so
    the world landmarks stay in the augmented crop's camera axes.
    """
    t = np.array(tokens, np.float64)
    if degrees:
        t[:, :3] = t[:, :3] @ rotation_3d(degrees).T
    if flip:
        t = t[list(BLAZEPOSE_FLIP)]
        t[:, 0] *= -1
    return t.astype(np.float32)


def tokens_of(person: object) -> np.ndarray | None:
    """(33, 6) tokens of anything that carries the detector's outputs as attributes
    ``world_landmarks``, ``landmark_visibility``, ``landmark_presence`` (a
    ``PersonDetection``, a stored person, a ``PersonSample``); None when it has none."""
    world = getattr(person, "world_landmarks", None)
    if world is None:
        return None
    return landmark_tokens(world, getattr(person, "landmark_visibility", None),
                           getattr(person, "landmark_presence", None))


def landmark_tensor(person: object, device: "torch.device | str" = "cpu") -> "torch.Tensor | None":
    """``tokens_of(person)`` as a (1, 33, 6) float32 tensor on ``device``, or None."""
    import torch

    tokens = tokens_of(person)
    return None if tokens is None else torch.from_numpy(tokens)[None].to(device)
