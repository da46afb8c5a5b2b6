"""Ground-truth SPIN-24 / COCO-17 points of a posed body, their visibility, and the noisy
keypoints a 2D detector or annotator would report.

SPIN-24 points come from the body's COCO-17 keypoints where COCO has the joint (so the
COCO view of ``part`` equals the ``keypoints_coco`` array exactly), from SMPL joints for
neck, pelvis, thorax, spine (between spine1 and spine2) and head, and from two mesh
vertices for head top and jaw.

A point is visible when it lies inside the image, is not covered by an occluder, and is
not hidden by the body itself. Surface points (face, head top, jaw) are tested against
the depth buffer with a small tolerance; joints lie inside the body, so the surface in
front of a joint must belong to its own limb (the joint's part, its parent's or a
child's) and lie no further in front than the limb's thickness.
"""

from __future__ import annotations

import numpy as np

from engine.body.model import SMPL_PARENTS
from engine.data.joint_sets import COCO17_FLIP, COCO17_FROM_SPIN24, SMPL24_FLIP, SPIN24_NAMES
from engine.data.synth.domains import DomainConfig
from engine.data.synth.raster import Raster

_SURFACE = -1
# SPIN-24 point -> (SMPL home joint or _SURFACE, depth tolerance in metres).
_HOME: dict[str, tuple[int, float]] = {
    "r_ankle": (8, 0.10), "r_knee": (5, 0.12), "r_hip": (2, 0.20), "l_hip": (1, 0.20),
    "l_knee": (4, 0.12), "l_ankle": (7, 0.10), "r_wrist": (21, 0.10), "r_elbow": (19, 0.12),
    "r_shoulder": (17, 0.18), "l_shoulder": (16, 0.18), "l_elbow": (18, 0.12), "l_wrist": (20, 0.10),
    "neck": (12, 0.15), "headtop": (_SURFACE, 0.03), "pelvis": (0, 0.20), "thorax": (12, 0.20),
    "spine": (6, 0.22), "jaw": (_SURFACE, 0.03), "head": (15, 0.15), "nose": (_SURFACE, 0.03),
    "l_eye": (_SURFACE, 0.03), "r_eye": (_SURFACE, 0.03), "l_ear": (_SURFACE, 0.04), "r_ear": (_SURFACE, 0.04),
}
HOME_JOINT = np.array([_HOME[n][0] for n in SPIN24_NAMES])
DEPTH_TOL = np.array([_HOME[n][1] for n in SPIN24_NAMES], np.float32)
_FROM_SMPL = {"neck": 12, "pelvis": 0, "thorax": 12, "head": 15}


def _allowed_parts() -> np.ndarray:
    """(24, 24) bool: SPIN point i may be seen through a surface of SMPL part j."""
    allowed = np.zeros((24, 24), bool)
    children = {j: [c for c, p in enumerate(SMPL_PARENTS) if p == j] for j in range(24)}
    for i, home in enumerate(HOME_JOINT):
        if home == _SURFACE:
            allowed[i] = True
            continue
        near = {home, *children[home]}
        parent = SMPL_PARENTS[home]
        if parent >= 0:
            near.add(parent)
            # Hips, shoulders and the neck sit where the torso meets the limb: the torso
            # around them may be what is seen in front of them.
            if home in (1, 2, 16, 17, 12):
                near.update(children[parent])
                if SMPL_PARENTS[parent] >= 0:
                    near.add(SMPL_PARENTS[parent])
                if SMPL24_FLIP[home] != home:
                    near.discard(SMPL24_FLIP[home])
        allowed[i, sorted(near)] = True
    return allowed


ALLOWED_PARTS = _allowed_parts()


def head_vertices(rest_vertices: np.ndarray, rest_joints: np.ndarray, rest_face: np.ndarray) -> tuple[int, int]:
    """Vertex ids of the head top and the chin, found on the rest mesh.

    rest_vertices: (V, 3); rest_joints: (24, 3); rest_face: (5, 3) COCO nose, eyes, ears.
    """
    v = rest_vertices
    top = int(np.argmax(v[:, 1]))
    nose = rest_face[0]
    band = (np.abs(v[:, 0] - nose[0]) < 0.015) & (v[:, 1] > rest_joints[12, 1]) & (v[:, 1] < nose[1] - 0.05)
    candidates = np.flatnonzero(band)
    if len(candidates) == 0:
        candidates = np.arange(len(v))
    chin = int(candidates[np.argmax(v[candidates, 2])])
    return top, chin


def spin24_points(joints: np.ndarray, coco: np.ndarray, vertices: np.ndarray, top: int, chin: int) -> np.ndarray:
    """(24, 3) SPIN-24 points of one posed body, in the same frame as the inputs.

    joints: (24, 3) SMPL joints; coco: (17, 3) COCO keypoints; vertices: (V, 3);
    top, chin: vertex ids from ``head_vertices``.
    """
    out = np.zeros((24, 3), np.float64)
    out[list(COCO17_FROM_SPIN24)] = coco
    for name, j in _FROM_SMPL.items():
        out[SPIN24_NAMES.index(name)] = joints[j]
    out[SPIN24_NAMES.index("spine")] = (joints[3] + joints[6]) / 2
    out[SPIN24_NAMES.index("headtop")] = vertices[top]
    out[SPIN24_NAMES.index("jaw")] = vertices[chin]
    return out


def visibility(points: np.ndarray, raster: Raster, face_part: np.ndarray, occluder: np.ndarray | None):
    """Which projected SPIN-24 points an observer sees.

    Args:
        points: (24, 3) pixel x, y and camera depth (metres) of each point.
        raster: the body's raster. face_part: (F,) SMPL part of each triangle.
        occluder: (H, W) bool pixels covered by occluders, or None.

    Returns:
        visible, inside, self_hidden, covered: (24,) bool each. inside: in the image;
        self_hidden: inside but behind the body; covered: inside and under an occluder.
    """
    h, w = raster.face.shape
    col = np.round(points[:, 0]).astype(np.int64)
    row = np.round(points[:, 1]).astype(np.int64)
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    c, r = np.clip(col, 0, w - 1), np.clip(row, 0, h - 1)
    face = raster.face[r, c]
    on_body = face >= 0
    in_front = raster.depth[r, c] < points[:, 2] - DEPTH_TOL
    part = face_part[np.maximum(face, 0)]
    own_limb = ALLOWED_PARTS[np.arange(24), part]
    self_hidden = inside & on_body & (in_front | ~own_limb)
    covered = inside & (occluder[r, c] if occluder is not None else np.zeros(24, bool))
    visible = inside & ~self_hidden & ~covered
    return visible, inside, self_hidden, covered


def observe(
    points_px: np.ndarray,
    visible: np.ndarray,
    self_hidden: np.ndarray,
    covered: np.ndarray,
    cfg: DomainConfig,
    rng: np.random.Generator,
    person_px: float,
) -> np.ndarray:
    """(24, 3) keypoints as a detector reports them: x, y pixels and confidence.

    Studio (``cfg.keypoint_noise_px == 0``): exact positions, confidence 1 where visible
    and 0 elsewhere. Wild: visible points move by Gaussian noise (``keypoint_noise_px``
    for a 150 px person, scaled with the person's size) with confidence 0.55-1; self-occluded points
    by ``hidden_noise_px`` with confidence 0.1-0.45; points under an occluder or outside
    the image are dropped (zeros). A few visible points are outliers, and now and then
    the left and right sides are swapped, as detectors do.

    person_px: the person's box side in pixels.
    """
    out = np.zeros((24, 3), np.float32)
    if cfg.keypoint_noise_px <= 0:
        out[:, :2] = points_px[:, :2]
        out[:, 2] = visible
        return out
    scale = np.clip(person_px / 150.0, 0.5, 2.5)
    sigma = np.where(visible, cfg.keypoint_noise_px, cfg.hidden_noise_px) * scale
    noisy = points_px[:, :2] + rng.normal(size=(24, 2)) * sigma[:, None]
    outlier = visible & (rng.random(24) < 0.02)
    noisy[outlier] += rng.normal(size=(int(outlier.sum()), 2)) * 6 * cfg.keypoint_noise_px * scale
    conf = np.where(visible, rng.uniform(0.55, 1.0, 24), rng.uniform(0.1, 0.45, 24))
    keep = visible | (self_hidden & ~covered)
    out[keep, :2] = noisy[keep]
    out[keep, 2] = conf[keep]
    if rng.random() < 0.03:
        coco = out[list(COCO17_FROM_SPIN24)]
        out[list(COCO17_FROM_SPIN24)] = coco[list(COCO17_FLIP)]
    return out
