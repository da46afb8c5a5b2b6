"""The 12 limb joints (shoulders, elbows, wrists, hips, knees, ankles) and where each
joint convention has them; see ``engine.multiview.joints`` for how the multi-view
evaluation reads bodies at them. Kept here, below the models, because the scorer compares
a candidate's limb joints with the detector's world landmarks at the same 12 joints.
"""

from __future__ import annotations

from engine.data.joint_sets import COCO17_NAMES, SMPL24_NAMES
from engine.detect.keypoints import BLAZEPOSE_NAMES

EVAL12_NAMES: tuple[str, ...] = COCO17_NAMES[5:17]

EVAL12_FROM_COCO17: tuple[int, ...] = tuple(range(5, 17))
EVAL12_FROM_BLAZEPOSE33: tuple[int, ...] = tuple(BLAZEPOSE_NAMES.index(n) for n in EVAL12_NAMES)
EVAL12_FROM_SMPL24: tuple[int, ...] = tuple(
    SMPL24_NAMES.index(n.replace("left_", "l_").replace("right_", "r_")) for n in EVAL12_NAMES
)

# Keyed by the joint count, which tells the three conventions apart.
_MAPS = {17: EVAL12_FROM_COCO17, 33: EVAL12_FROM_BLAZEPOSE33, 24: EVAL12_FROM_SMPL24}
HIPS = (EVAL12_NAMES.index("left_hip"), EVAL12_NAMES.index("right_hip"))
# Evaluation joint i of a mirrored body is joint EVAL12_FLIP[i] (left and right swapped).
EVAL12_FLIP: tuple[int, ...] = (1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10)
