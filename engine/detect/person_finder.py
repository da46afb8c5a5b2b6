"""Stage 1: find the people and the rotated square around each one's body.

Runs BlazePose's detector (224 x 224 input, values in [-1, 1]) on the letterboxed image
or on a region of it, suppresses overlapping anchors, and turns each detection's
mid-hip and full-body scale keypoints into the crop the landmark model reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.detect.activations import sigmoid
from engine.detect.anchors import INPUT_SIZE, anchor_centres, decode, weighted_nms
from engine.detect.geometry import RotatedSquare, apply_affine, letterbox
from engine.detect.weights import open_interpreter

# The landmark model was trained on crops 1.25 times the body circle the detector gives.
ROI_SCALE = 1.25


@dataclass(frozen=True, eq=False)
class PersonCandidate:
    """One person the detector found.

    face_box: x0, y0, x1, y1 in image pixels (the detector's box is around the face).
    keypoints: (4, 2) float32 image pixels: mid-hip, full-body scale point,
        mid-shoulder, upper-body scale point.
    score: detector confidence in [0, 1].
    square: the rotated crop for the landmark model.
    """

    face_box: tuple[float, float, float, float]
    keypoints: np.ndarray
    score: float
    square: RotatedSquare


def body_square(keypoints: np.ndarray, scale: float = ROI_SCALE) -> RotatedSquare:
    """The crop around a body from the detector's mid-hip and scale keypoints.

    Args:
        keypoints: (>=2, 2) image pixels; [0] mid-hip centre, [1] the scale point.

    The mid-hip is the centre; twice its distance to the scale point is the side before
    the training margin; the rotation turns the hip-to-scale direction to point up.
    """
    (x0, y0), (x1, y1) = keypoints[0], keypoints[1]
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * scale
    rotation = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    return RotatedSquare((float(x0), float(y0)), side, rotation)


class PersonFinder:
    """The BlazePose person detector on one interpreter (reused across calls; not
    thread-safe on its own)."""

    def __init__(self, model_path: Path, num_threads: int = 2, min_score: float = 0.5) -> None:
        self.interpreter = open_interpreter(model_path, num_threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        outputs = {o["shape"][-1]: o["index"] for o in self.interpreter.get_output_details()}
        self._boxes_out, self._scores_out = outputs[12], outputs[1]
        self._centres = anchor_centres()
        self.min_score = min_score

    def find_all(
        self,
        image: np.ndarray,
        region: tuple[int, int, int, int] | None = None,
        min_score: float | None = None,
    ) -> list[PersonCandidate]:
        """Every person one detector pass sees in an image or in a region of it.

        Args:
            image: (H, W, 3) uint8 RGB.
            region: x0, y0, x1, y1 integer pixel bounds to search, or None for all.
            min_score: detections under this are dropped (None: the finder's own).

        Returns:
            the candidates in full-image pixels, strongest first.
        """
        x0, y0 = (region[0], region[1]) if region else (0, 0)
        view = image[region[1] : region[3], region[0] : region[2]] if region else image
        square, view_from_square = letterbox(view, INPUT_SIZE)
        # Scaled to [-1, 1] straight into the interpreter's input buffer (no copies).
        tensor = self.interpreter.tensor(self._input)()[0]
        np.multiply(square, np.float32(2.0 / 255.0), out=tensor, dtype=np.float32, casting="unsafe")
        np.subtract(tensor, np.float32(1.0), out=tensor)
        del tensor  # the interpreter refuses to run while a view of its buffers lives
        self.interpreter.invoke()
        raw_boxes = self.interpreter.get_tensor(self._boxes_out)[0]
        raw_scores = self.interpreter.get_tensor(self._scores_out)[0].reshape(-1)
        threshold = self.min_score if min_score is None else min_score
        # Only the few anchors that reach the threshold are decoded; suppression would
        # drop the other 2000-odd anyway.
        strong = sigmoid(raw_scores) >= threshold
        boxes, keypoints, scores = decode(raw_boxes[strong], raw_scores[strong], self._centres[strong])
        image_from_unit = view_from_square.copy()
        image_from_unit[:, :2] *= INPUT_SIZE
        image_from_unit[:, 2] += (x0, y0)
        out = []
        for box, kps, score in weighted_nms(boxes, keypoints, scores, threshold):
            kps_px = apply_affine(image_from_unit, kps.astype(np.float64))
            corners = apply_affine(image_from_unit, box.reshape(2, 2).astype(np.float64))
            out.append(PersonCandidate(
                face_box=(float(corners[0, 0]), float(corners[0, 1]), float(corners[1, 0]), float(corners[1, 1])),
                keypoints=kps_px.astype(np.float32),
                score=score,
                square=body_square(kps_px),
            ))
        return out

    def find(
        self, image: np.ndarray, region: tuple[int, int, int, int] | None = None
    ) -> PersonCandidate | None:
        """The strongest person in an image or in a region of it (see :meth:`find_all`),
        or None when nobody scores ``min_score``."""
        found = self.find_all(image, region)
        return found[0] if found else None
