"""Stage 2: BlazePose-full landmarks and person mask inside a rotated square crop.

The landmark model reads a 256 x 256 crop with values in [0, 1] and gives 39 points
(33 body landmarks and 6 auxiliary ones) as x, y, z in crop pixels with visibility and
presence logits, a pose-present probability, a 256 x 256 segmentation logit map,
64 x 64 heatmaps that sharpen the point positions and 39 world points in metres.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.detect.activations import sigmoid
from engine.detect.geometry import RotatedSquare, apply_affine, crop_square, paste_square
from engine.detect.weights import open_interpreter

INPUT_SIZE = 256
NUM_POINTS = 39
NUM_LANDMARKS = 33
HEATMAP_KERNEL = 7
MIN_HEATMAP_CONFIDENCE = 0.5


def world_from_crop(world: np.ndarray, rotation: float) -> np.ndarray:
    """Turn world landmarks from the crop's axes back into the camera's.

    The model sees the body upright in its rotated crop, so its metric points are in the
    crop's axes; as MediaPipe's WorldLandmarkProjectionCalculator, x and y turn by the
    crop's in-plane rotation and z (depth) is unchanged.

    Args:
        world: (N, 3) metres in the crop's axes.
        rotation: the crop's rotation in radians (``RotatedSquare.rotation``).

    Returns:
        (N, 3) float32 metres, camera axes (x right, y down, z away).
    """
    c, s = np.cos(rotation), np.sin(rotation)
    x, y = world[:, 0], world[:, 1]
    return np.column_stack([c * x - s * y, s * x + c * y, world[:, 2]]).astype(np.float32)


def refine_with_heatmaps(points: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Move each point to the confidence-weighted centre of its heatmap around it.

    As MediaPipe's RefineLandmarksFromHeatmap: a 7 x 7 window of the point's own heatmap
    (sigmoid of the logits) around its cell; the point moves to the window's weighted
    mean cell only when the window's peak is at least 0.5, so vague heatmaps are ignored.

    Args:
        points: (N, 2) float32, x, y in crop pixels (0..INPUT_SIZE).
        heatmaps: (h, w, N) float32 logits.

    Returns:
        (N, 2) float32 refined x, y in crop pixels.
    """
    hm_h, hm_w, _ = heatmaps.shape
    cell = INPUT_SIZE / hm_w
    half = (HEATMAP_KERNEL - 1) // 2
    out = points.copy()
    for i, (x, y) in enumerate(points):
        col, row = int(np.floor(x / cell)), int(np.floor(y / cell))
        if not (0 <= col < hm_w and 0 <= row < hm_h):
            continue
        r0, r1 = max(0, row - half), min(hm_h, row + half + 1)
        c0, c1 = max(0, col - half), min(hm_w, col + half + 1)
        conf = sigmoid(heatmaps[r0:r1, c0:c1, i])
        total = float(conf.sum())
        if conf.max() < MIN_HEATMAP_CONFIDENCE or total <= 0:
            continue
        rows, cols = np.mgrid[r0:r1, c0:c1]
        # The weighted cell index is scaled without a half-cell offset, as MediaPipe
        # does, which keeps the refined points in step with the regressed ones.
        out[i, 0] = float((cols * conf).sum()) / total * cell
        out[i, 1] = float((rows * conf).sum()) / total * cell
    return out


@dataclass(frozen=True, eq=False)
class LandmarkResult:
    """Landmarks of one person in full-image pixels.

    landmarks: (33, 4) float32: x, y (px), z (px, same scale as x, relative to the
        hips' depth, negative towards the camera), visibility logit.
    presence: (33,) float32 presence logits.
    pose_score: probability in [0, 1] that the crop holds a person.
    mask: (H, W) float32 in [0, 1], person probability over the full image.
    world: (33, 3) float32 metres, origin at the hip midpoint, camera axes (x right,
        y down, z away).
    """

    landmarks: np.ndarray
    presence: np.ndarray
    pose_score: float
    mask: np.ndarray
    world: np.ndarray


class Landmarker:
    """The BlazePose-full landmark model on one interpreter (reused across calls; not
    thread-safe on its own)."""

    def __init__(self, model_path: Path, num_threads: int = 2) -> None:
        self.interpreter = open_interpreter(model_path, num_threads)
        self._input = self.interpreter.get_input_details()[0]["index"]
        outputs = self.interpreter.get_output_details()
        by_shape = {tuple(o["shape"][1:]): o["index"] for o in outputs}
        self._points_out = by_shape[(NUM_POINTS * 5,)]
        self._flag_out = by_shape[(1,)]
        self._mask_out = by_shape[(INPUT_SIZE, INPUT_SIZE, 1)]
        self._heatmap_out = next(
            index for shape, index in by_shape.items() if len(shape) == 3 and shape[2] == NUM_POINTS
        )
        self._world_out = by_shape[(NUM_POINTS * 3,)]

    def run(self, image: np.ndarray, square: RotatedSquare) -> LandmarkResult:
        """Landmarks and mask of the person inside ``square``.

        Args:
            image: (H, W, 3) uint8 RGB.
            square: the crop, in image pixels.
        """
        crop = crop_square(image, square, INPUT_SIZE)
        self.interpreter.set_tensor(self._input, crop.astype(np.float32)[None] * (1.0 / 255.0))
        self.interpreter.invoke()
        raw = self.interpreter.get_tensor(self._points_out).reshape(NUM_POINTS, 5)
        pose_score = float(self.interpreter.get_tensor(self._flag_out).reshape(()))
        mask_logits = self.interpreter.get_tensor(self._mask_out)[0, :, :, 0]
        heatmaps = self.interpreter.get_tensor(self._heatmap_out)[0]
        world = self.interpreter.get_tensor(self._world_out).reshape(NUM_POINTS, 3)

        xy = refine_with_heatmaps(raw[:NUM_LANDMARKS, :2].copy(), heatmaps[..., :NUM_LANDMARKS])
        image_from_crop = square.crop_to_image(INPUT_SIZE)
        xy_px = apply_affine(image_from_crop, xy.astype(np.float64))
        z_px = raw[:NUM_LANDMARKS, 2] * (square.size / INPUT_SIZE)
        landmarks = np.column_stack([xy_px, z_px, raw[:NUM_LANDMARKS, 3]]).astype(np.float32)
        mask = paste_square(sigmoid(mask_logits), square, image.shape[:2])
        presence = raw[:NUM_LANDMARKS, 4].astype(np.float32)
        world_cam = world_from_crop(world[:NUM_LANDMARKS], square.rotation)
        return LandmarkResult(landmarks, presence, pose_score, mask, world_cam)
