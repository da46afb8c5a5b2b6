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
    hm_h, hm_w, n = heatmaps.shape
    cell = INPUT_SIZE / hm_w
    half = (HEATMAP_KERNEL - 1) // 2
    col = np.floor(points[:, 0] / cell)
    row = np.floor(points[:, 1] / cell)
    inside = (col >= 0) & (col < hm_w) & (row >= 0) & (row < hm_h)
    # One gather of every point's window (N, 7, 7) instead of a loop over the points;
    # cells past the heatmap's edge weigh 0, as the clipped windows leave them out.
    offsets = np.arange(-half, half + 1)
    rows = np.where(inside, row, 0).astype(np.intp)[:, None] + offsets
    cols = np.where(inside, col, 0).astype(np.intp)[:, None] + offsets
    in_rows = (rows >= 0) & (rows < hm_h)
    in_cols = (cols >= 0) & (cols < hm_w)
    window = heatmaps[
        np.clip(rows, 0, hm_h - 1)[:, :, None],
        np.clip(cols, 0, hm_w - 1)[:, None, :],
        np.arange(n)[:, None, None],
    ]
    conf = sigmoid(window) * (in_rows[:, :, None] & in_cols[:, None, :])
    total = conf.sum(axis=(1, 2), dtype=np.float64)
    refine = inside & (conf.max(axis=(1, 2)) >= MIN_HEATMAP_CONFIDENCE) & (total > 0)
    safe_total = np.where(refine, total, 1.0)
    # The weighted cell index is scaled without a half-cell offset, as MediaPipe
    # does, which keeps the refined points in step with the regressed ones.
    x = (conf.sum(axis=1, dtype=np.float64) * cols).sum(axis=1) / safe_total * cell
    y = (conf.sum(axis=2, dtype=np.float64) * rows).sum(axis=1) / safe_total * cell
    out = points.copy()
    out[refine, 0] = x[refine]
    out[refine, 1] = y[refine]
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
        # Scaled straight into the interpreter's input buffer: no float copy to hand over.
        np.multiply(
            crop, np.float32(1.0 / 255.0), out=self.interpreter.tensor(self._input)()[0],
            dtype=np.float32, casting="unsafe",
        )
        self.interpreter.invoke()
        raw, pose_score, xy, mask_prob, world = self._read_outputs()
        image_from_crop = square.crop_to_image(INPUT_SIZE)
        xy_px = apply_affine(image_from_crop, xy.astype(np.float64))
        z_px = raw[:NUM_LANDMARKS, 2] * (square.size / INPUT_SIZE)
        landmarks = np.column_stack([xy_px, z_px, raw[:NUM_LANDMARKS, 3]]).astype(np.float32)
        mask = paste_square(mask_prob, square, image.shape[:2])
        presence = raw[:NUM_LANDMARKS, 4].astype(np.float32)
        world_cam = world_from_crop(world[:NUM_LANDMARKS], square.rotation)
        return LandmarkResult(landmarks, presence, pose_score, mask, world_cam)

    def _read_outputs(self) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray]:
        """The last invoke's outputs, in the crop's pixels.

        The heatmaps and the mask are read through views of the interpreter's buffers
        (no copy of the 0.6 MB heatmaps, of which 33 7x7 windows are used); every view
        dies with this call, as the next invoke refuses to run while one lives.

        Returns:
            raw: (39, 5) x, y, z (crop px), visibility and presence logits.
            pose_score: in [0, 1].
            xy: (33, 2) float32 heatmap-refined x, y (crop px).
            mask_prob: (256, 256) float32 person probability.
            world: (39, 3) metres in the crop's axes.
        """
        get = self.interpreter.get_tensor
        raw = get(self._points_out).reshape(NUM_POINTS, 5)
        pose_score = float(get(self._flag_out).reshape(()))
        world = get(self._world_out).reshape(NUM_POINTS, 3)
        heatmaps = self.interpreter.tensor(self._heatmap_out)()[0, :, :, :NUM_LANDMARKS]
        xy = refine_with_heatmaps(raw[:NUM_LANDMARKS, :2], heatmaps)
        mask_prob = sigmoid(self.interpreter.tensor(self._mask_out)()[0, :, :, 0])
        return raw, pose_score, xy, mask_prob, world
