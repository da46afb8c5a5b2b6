"""Joint orders used by the dataset formats, the maps between them and their mirrors.

* COCO-17: the 2D keypoints every record carries (``PersonSample.keypoints``).
* SPIN-24: the order of SPIN's ``part`` (2D) and ``S`` (3D) arrays: the 14 LSP joints,
  pelvis and thorax from MPII, spine, jaw and head from Human3.6M, then the 5 COCO face
  points.
* SMPL-24: the body model's kinematic joints, in the order of its pose parameters.
* OpenPose BODY_25: ProHMR's ``body_keypoints_2d``; ProHMR's ``extra_keypoints_2d`` are
  the first 19 SPIN-24 joints.

A ``*_FLIP`` permutation maps a joint to its left/right mirror: after a horizontal flip
the joint at index ``i`` is the old joint at ``FLIP[i]``.
"""

from __future__ import annotations

COCO17_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)

SPIN24_NAMES: tuple[str, ...] = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle",
    "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist",
    "neck", "headtop", "pelvis", "thorax", "spine", "jaw", "head",
    "nose", "l_eye", "r_eye", "l_ear", "r_ear",
)

SMPL24_NAMES: tuple[str, ...] = (
    "pelvis", "l_hip", "r_hip", "spine1", "l_knee", "r_knee", "spine2",
    "l_ankle", "r_ankle", "spine3", "l_foot", "r_foot", "neck",
    "l_collar", "r_collar", "head", "l_shoulder", "r_shoulder",
    "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hand", "r_hand",
)

# Parent of each SMPL-24 joint in the kinematic tree (-1 for the root).
SMPL24_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
)

OPENPOSE25_NAMES: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
    "l_wrist", "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle",
    "r_eye", "l_eye", "r_ear", "l_ear", "l_big_toe", "l_small_toe", "l_heel",
    "r_big_toe", "r_small_toe", "r_heel",
)

# COCO-17 joint i is SPIN-24 joint COCO17_FROM_SPIN24[i].
COCO17_FROM_SPIN24: tuple[int, ...] = (19, 20, 21, 22, 23, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0)

# COCO-17 joint i is OpenPose BODY_25 joint COCO17_FROM_OPENPOSE25[i].
COCO17_FROM_OPENPOSE25: tuple[int, ...] = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)

# The five SPIN-24 face points (19..23) are OpenPose BODY_25 joints:
SPIN24_FACE_FROM_OPENPOSE25: tuple[int, ...] = (0, 16, 15, 18, 17)

# SPIN-24 joint i is SMPL-24 joint SPIN24_FROM_SMPL24[i], or -1 where SMPL has no joint
# at that place (head top, jaw, face points; the H36M spine sits between SMPL's spine
# joints). SMPL's neck stands in for both LSP's neck and MPII's thorax: all three lie at
# the base of the neck, between the shoulders.
SPIN24_FROM_SMPL24: tuple[int, ...] = (
    8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, -1, 0, 12, -1, -1, 15, -1, -1, -1, -1, -1,
)

COCO17_FLIP: tuple[int, ...] = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)

SMPL24_FLIP: tuple[int, ...] = (
    0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10, 12, 14, 13, 15, 17, 16, 19, 18, 21, 20, 23, 22,
)

SPIN24_FLIP: tuple[int, ...] = (
    5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13, 14, 15, 16, 17, 18, 19, 21, 20, 23, 22,
)

OPENPOSE25_FLIP: tuple[int, ...] = (
    0, 1, 5, 6, 7, 2, 3, 4, 8, 12, 13, 14, 9, 10, 11, 16, 15, 18, 17, 22, 23, 24, 19, 20, 21,
)
