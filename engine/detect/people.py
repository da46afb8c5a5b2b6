"""Several people in one photo: merging the detector's passes and the landmark results.

The whole-image pass and the tiles (``engine.detect.views``) see the same person more
than once, and two crops of overlapping people can drift onto the same body; these
helpers keep one of each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.detect.anchors import iou
from engine.detect.person_finder import PersonCandidate

if TYPE_CHECKING:
    from engine.detect.pose_detector import PersonDetection

# Detections of one person from two passes overlap on the face box by far more than
# this; two people's faces hardly ever do.
SAME_FACE_IOU = 0.3
# Two landmark results whose median landmark distance is under this share of the
# larger person box's diagonal are the same body found from two crops.
SAME_BODY_DISTANCE = 0.08


@dataclass(frozen=True, eq=False)
class PhotoDetections:
    """Every person found in one photo.

    persons: largest box first (the photo's main subjects before the crowd).
    too_small: people found but skipped for being under the minimum size.
    """

    persons: tuple["PersonDetection", ...]
    too_small: int


def merge_candidates(candidates: list[PersonCandidate]) -> list[PersonCandidate]:
    """One candidate per person: the strongest of those whose face boxes overlap.

    Args:
        candidates: from any number of detector passes, in full-image pixels.

    Returns:
        the kept candidates, strongest first.
    """
    ordered = sorted(candidates, key=lambda c: -c.score)
    kept: list[PersonCandidate] = []
    for c in ordered:
        box = np.asarray(c.face_box, np.float64)
        if kept and iou(box, np.array([k.face_box for k in kept], np.float64)).max() > SAME_FACE_IOU:
            continue
        kept.append(c)
    return kept


def _diagonal(box: tuple[float, float, float, float]) -> float:
    return float(np.hypot(box[2] - box[0], box[3] - box[1]))


def same_body(a: "PersonDetection", b: "PersonDetection") -> bool:
    """True when two detections put their landmarks on the same body."""
    distance = np.median(np.linalg.norm(a.landmarks[:, :2] - b.landmarks[:, :2], axis=1))
    return bool(distance < SAME_BODY_DISTANCE * max(_diagonal(a.box), _diagonal(b.box), 1.0))


def box_area(box: tuple[float, float, float, float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def distinct_people(found: list["PersonDetection"]) -> list["PersonDetection"]:
    """Drop each detection that repeats a stronger one's body; largest box first."""
    kept: list["PersonDetection"] = []
    for d in sorted(found, key=lambda d: -d.score):
        if not any(same_body(d, k) for k in kept):
            kept.append(d)
    return sorted(kept, key=lambda d: -box_area(d.box))
