"""SSD anchors of the BlazePose person detector and decoding of its raw outputs.

The detector predicts, for each of 2254 anchors, a box and four keypoints as offsets
from the anchor centre, in input pixels (224 per side). Its anchors have a fixed unit
size, so only their centres matter: one grid per stride (8, 16, 32), with two anchors per
cell for strides 8 and 16 and six for stride 32 (three 32-stride layers of two anchors
each share one grid).
"""

from __future__ import annotations

import numpy as np

from engine.detect.activations import sigmoid

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2  # one per aspect ratio (1.0) plus one interpolated scale
NUM_KEYPOINTS = 4


def anchor_centres(input_size: int = INPUT_SIZE, strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """Centres of the detector's anchors, in the order its outputs use.

    Returns:
        centres: (N, 2) float32, (x, y) normalised to [0, 1] of the input square.
            N = 2254 for the defaults.
    """
    groups: list[tuple[int, int]] = []  # (stride, anchors per cell); equal strides merge
    for stride in strides:
        if groups and groups[-1][0] == stride:
            groups[-1] = (stride, groups[-1][1] + ANCHORS_PER_LAYER)
        else:
            groups.append((stride, ANCHORS_PER_LAYER))
    out = []
    for stride, per_cell in groups:
        cells = int(np.ceil(input_size / stride))
        c = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(c, c, indexing="ij")
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        out.append(np.repeat(grid, per_cell, axis=0))
    return np.concatenate(out, axis=0)


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, centres: np.ndarray, input_size: int = INPUT_SIZE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn the detector's raw outputs into boxes, keypoints and scores.

    Args:
        raw_boxes: (N, 12) float32: box centre offset (x, y), box size (w, h) and four
            keypoint offsets (x, y), all in input pixels relative to the anchor centre.
        raw_scores: (N,) or (N, 1) float32 logits.
        centres: (N, 2) anchor centres from :func:`anchor_centres`.

    Returns:
        boxes: (N, 4) float32, x0, y0, x1, y1 normalised to the input square.
        keypoints: (N, 4, 2) float32, normalised to the input square: mid-hip, a point
            whose distance from mid-hip gives the body size and whose direction gives
            its rotation, mid-shoulder, and the same for the upper body.
        scores: (N,) float32 in [0, 1].
    """
    raw = raw_boxes.astype(np.float32) / input_size
    cx = raw[:, 0] + centres[:, 0]
    cy = raw[:, 1] + centres[:, 1]
    half_w, half_h = raw[:, 2] / 2, raw[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    offsets = raw[:, 4 : 4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2)
    keypoints = offsets + centres[:, None, :]
    scores = sigmoid(raw_scores.reshape(-1))
    return boxes, keypoints, scores


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (4,) with many (N, 4), all x0, y0, x1, y1."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def weighted_nms(
    boxes: np.ndarray,
    keypoints: np.ndarray,
    scores: np.ndarray,
    min_score: float,
    overlap: float = 0.3,
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Every detection, each averaged with the anchors that overlap it, strongest first.

    MediaPipe's weighted non-maximum suppression: repeatedly take the highest-scoring
    anchor left, average it with every remaining anchor whose box overlaps it by more
    than ``overlap`` IoU (weighted by score, which steadies the keypoints that place the
    crop) and remove them all.

    Args:
        boxes: (N, 4), keypoints: (N, K, 2), scores: (N,) from :func:`decode`.
        min_score: anchors under this are ignored.

    Returns:
        [(box (4,), keypoints (K, 2), score)], score-descending; empty when no anchor
        reaches ``min_score``.
    """
    left = np.flatnonzero(scores >= min_score)
    left = left[np.argsort(-scores[left], kind="stable")]
    out = []
    while left.size:
        top = left[0]
        near = iou(boxes[top], boxes[left]) > overlap
        near[0] = True
        cluster, left = left[near], left[~near]
        w = scores[cluster] / scores[cluster].sum()
        box = (boxes[cluster] * w[:, None]).sum(axis=0)
        kps = (keypoints[cluster] * w[:, None, None]).sum(axis=0)
        out.append((box.astype(np.float32), kps.astype(np.float32), float(scores[top])))
    return out
