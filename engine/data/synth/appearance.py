"""Clothing-like colours for the body mesh: skin, hair, shirt, trousers and shoes.

Each triangle gets a body part (the joint that its corners' skinning weights favour) and
from it a material; which parts a shirt or trousers cover changes per sample (short or
long sleeves, shorts or trousers), and so do the colours, drawn per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.body.model import SMPL_JOINT_NAMES

SKIN, HAIR, SHIRT, TROUSERS, SHOES = range(5)

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
_SHIRT_PARTS = ("spine1", "spine2", "spine3", "left_collar", "right_collar", "left_shoulder", "right_shoulder")
_TROUSER_PARTS = ("pelvis", "left_hip", "right_hip")
_SHOE_PARTS = ("left_ankle", "right_ankle", "left_foot", "right_foot")
_FOREARMS = ("left_elbow", "right_elbow")
_SHINS = ("left_knee", "right_knee")

# Realistic skin tones (linear-ish RGB in [0, 1]), from light to dark.
_SKIN_TONES = np.array(
    [[0.96, 0.80, 0.69], [0.92, 0.72, 0.58], [0.84, 0.62, 0.47], [0.72, 0.52, 0.38],
     [0.58, 0.40, 0.28], [0.44, 0.29, 0.20], [0.30, 0.20, 0.14]], np.float32,
)
_HAIR_TONES = np.array(
    [[0.08, 0.06, 0.05], [0.20, 0.13, 0.08], [0.38, 0.25, 0.14], [0.70, 0.56, 0.34], [0.60, 0.58, 0.55]],
    np.float32,
)


@dataclass(frozen=True)
class BodyParts:
    """Per-triangle labels of one mesh, computed once from its rest pose.

    part: (F,) int64 SMPL joint each triangle belongs to (argmax of summed skinning weights).
    hair: (F,) bool, triangles of the head above the hairline or behind the ears.
    height: (F,) float32 rest-pose height of each triangle's centre in metres (for stripes).
    """

    part: np.ndarray
    hair: np.ndarray
    height: np.ndarray

    @classmethod
    def from_rest(cls, vertices: np.ndarray, faces: np.ndarray, weights: np.ndarray, face_points: np.ndarray):
        """vertices: (V, 3) rest pose; faces: (F, 3); weights: (V, 24) skinning weights;
        face_points: (5, 3) rest COCO nose, eyes, ears."""
        part = weights[faces].sum(axis=1).argmax(axis=1)
        centre = vertices[faces].mean(axis=1)
        eye_y = face_points[1:3, 1].mean()
        ear_y = face_points[3:5, 1].mean()
        ear_z = face_points[3:5, 2].mean()
        head = part == _J["head"]
        hair = head & ((centre[:, 1] > eye_y + 0.045) | ((centre[:, 2] < ear_z) & (centre[:, 1] > ear_y - 0.07)))
        return cls(part=part, hair=hair, height=centre[:, 1].astype(np.float32))


def _material_of_part(long_sleeves: bool, long_legs: bool) -> np.ndarray:
    table = np.full(24, SKIN, np.int64)
    for names, material in ((_SHIRT_PARTS, SHIRT), (_TROUSER_PARTS, TROUSERS), (_SHOE_PARTS, SHOES)):
        table[[_J[n] for n in names]] = material
    if long_sleeves:
        table[[_J[n] for n in _FOREARMS]] = SHIRT
    if long_legs:
        table[[_J[n] for n in _SHINS]] = TROUSERS
    return table


def _cloth_colour(rng: np.random.Generator, vivid: float) -> np.ndarray:
    """A garment colour: mostly muted, sometimes saturated (vivid = chance of saturated)."""
    if rng.random() < vivid:
        hue = rng.random()
        rgb = np.clip(np.abs(((hue * 6 + np.array([0.0, 4.0, 2.0])) % 6) - 3) - 1, 0, 1)
        return (0.15 + 0.75 * rgb * rng.uniform(0.6, 1.0)).astype(np.float32)
    grey = rng.uniform(0.08, 0.85)
    return np.clip(grey + rng.normal(scale=0.06, size=3), 0.03, 0.95).astype(np.float32)


def sample_face_colors(parts: BodyParts, rng: np.random.Generator, vivid: float = 0.4, patterns: bool = False):
    """(F, 3) float32 albedo per triangle for one sample.

    vivid: chance that a garment has a saturated colour.
    patterns: allow striped shirts (stripes follow rest-pose height).
    """
    long_sleeves = rng.random() < 0.55
    long_legs = rng.random() < 0.7
    colours = np.stack([
        _SKIN_TONES[rng.integers(len(_SKIN_TONES))] * rng.uniform(0.92, 1.08),
        _HAIR_TONES[rng.integers(len(_HAIR_TONES))],
        _cloth_colour(rng, vivid),
        _cloth_colour(rng, vivid * 0.5),
        _cloth_colour(rng, 0.2) * 0.6,
    ]).astype(np.float32)
    material = _material_of_part(long_sleeves, long_legs)[parts.part]
    if rng.random() < 0.9:
        material = np.where(parts.hair, HAIR, material)
    out = colours[material]
    if patterns and rng.random() < 0.35:
        period = rng.uniform(0.03, 0.12)
        second = _cloth_colour(rng, 0.5)
        stripe = (np.floor(parts.height / period) % 2 == 1) & (material == SHIRT)
        out[stripe] = second
    return np.clip(out, 0.0, 1.0)
