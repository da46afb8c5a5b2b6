"""One photo to scored candidate meshes: detect, crop, sample, decode, score, write.

``sample_image`` is what ``adhmr sample`` and the app's Sample action run;
``write_sample_outputs`` saves what it returns (arrays, a ranking, an overlay picture).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch

from engine.body.model import BodyModel
from engine.data.crops import CropTransform, crop_image
from engine.data.landmark_tokens import tokens_of
from engine.errors import ShapeError
from engine.image_io import load_image, save_image
from engine.output_files import atomic_output
from engine.models.candidates import Candidates
from engine.models.protocols import Sampler, Scorer
from engine.models.sample_and_score import sample_person
from engine.models.sample_settings import SampleSettings

if TYPE_CHECKING:
    from engine.detect import PoseDetector

log = logging.getLogger(__name__)

OVERLAY_TOP_K = 5
# Longest side of overlay.png: a 12000 x 12000 photo drawn at full size took 47 s and 8 GB
# (float32 layers of the whole frame per candidate); the picture is for looking at.
OVERLAY_MAX_SIDE = 2048
KEYPOINT_BOX_PAD = 0.1
"""A box made from keypoints alone is padded by this share of its size on each side
(the detector pads its own boxes the same way), as keypoints miss the head top and feet."""


@dataclass(frozen=True, eq=False)
class ImageCandidates:
    """The candidates of the one person sampled in a photo.

    image: (H, W, 3) uint8 RGB. crop: the square crop the model saw.
    crop_pixels: (S, S, 3) uint8, that crop. keypoints_px: (17, 3) x, y pixels + confidence.
    candidates: Candidates with N = 1 (meshes included, scores when a scorer was given).
    detection: the detector's PersonDetection, or None when keypoints were given.
    extra_names: what the last len(extra_names) candidates are when they were not
        sampled (e.g. ("fit",): the body fit, ``engine.fitting``); the others are sampled.
    landmarks: (33, 6) the detector's landmark tokens of the person
        (``engine.data.landmark_tokens``), or None when unknown.
    """

    image: np.ndarray
    crop: CropTransform
    crop_pixels: np.ndarray
    keypoints_px: np.ndarray
    candidates: Candidates
    detection: Any | None = None
    extra_names: tuple[str, ...] = ()
    landmarks: np.ndarray | None = None

    def source(self, m: int) -> str:
        """'sampled', or the extra's name for candidate m."""
        first_extra = self.candidates.num_hypotheses - len(self.extra_names)
        return "sampled" if m < first_extra else self.extra_names[m - first_extra]


def keypoint_box(keypoints: np.ndarray, width: int, height: int) -> np.ndarray:
    """(4,) x0, y0, x1, y1 around the confident keypoints (17, 3), padded, clipped."""
    seen = keypoints[keypoints[:, 2] > 0, :2]
    if len(seen) < 2:
        raise ShapeError("keypoints: at least two need a confidence > 0 to place the person")
    lo, hi = seen.min(0), seen.max(0)
    pad = (hi - lo).max() * KEYPOINT_BOX_PAD + 1.0
    x0, y0 = np.maximum(lo - pad, 0)
    x1, y1 = np.minimum(hi + pad, [width - 1, height - 1])
    return np.array([x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)], np.float32)


def sample_image(
    image: str | Path | np.ndarray,
    model: Sampler,
    settings: SampleSettings = SampleSettings(),
    box: tuple[float, float, float, float] | None = None,
    keypoints: np.ndarray | None = None,
    detector: PoseDetector | None = None,
    scorer: Scorer | None = None,
    body: BodyModel | None = None,
    extra: tuple[tuple[str, np.ndarray], ...] = (),
    landmarks: np.ndarray | None = None,
) -> ImageCandidates:
    """Sample ``settings.num_candidates`` candidate meshes for the person in a photo.

    image: a path or (H, W, 3) uint8 RGB. model: the sampler (a DiffusionHMR).
    settings: M, steps, seed, precision, consensus, ... (see ``SampleSettings``).
    box: x0, y0, x1, y1 px around the person (picks one in a group photo).
    keypoints: (17, 3) COCO-17 px + confidence; detected with ``detector`` (a
        PoseDetector, built when None) when not given.
    scorer: scores the candidates (an HMRScorer), or None.
    body: the BodyModel to decode with (default: the configured one).
    extra: (name, params (D,)) candidates from elsewhere for this person's crop (the box's
        square crop; e.g. ("fit", the body fit)), appended after the sampled ones and
        scored with them. With ``settings.fit_start`` > 0 the samples start from the
        extra named "fit".
    landmarks: (33, 6) the person's detector landmark tokens (``landmark_tokens.tokens_of``)
        when ``keypoints`` are given; taken from the detection otherwise.
    Raises ImageError, NoPersonError, ShapeError.
    """
    if isinstance(image, (str, os.PathLike)):
        image = load_image(image)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ShapeError(f"image: expected (H, W, 3) uint8, got {image.shape} {image.dtype}")
    height, width = image.shape[:2]
    detection = None
    if keypoints is None:
        if detector is None:
            from engine.detect import PoseDetector

            detector = PoseDetector()
        detection = detector.detect(image, box)
        keypoints = np.asarray(detection.keypoints, np.float32)
        landmarks = tokens_of(detection)
        box = detection.box if box is None else box
    keypoints = np.asarray(keypoints, np.float32)
    if keypoints.shape != (17, 3) or not np.isfinite(keypoints).all():
        raise ShapeError(f"keypoints: expected finite (17, 3) pixels + confidence, got {keypoints.shape}")
    crop_box = keypoint_box(keypoints, width, height) if box is None else np.asarray(box, np.float32)
    if body is None:
        body = BodyModel()
    extra_params = None
    if extra:
        extra_params = torch.as_tensor(np.stack([np.asarray(p, np.float32) for _, p in extra]))[None]
    fits = [torch.as_tensor(np.asarray(p, np.float32))[None] for name, p in extra if name == "fit"]
    crop, sampled = sample_person(image, crop_box, keypoints, model, body, settings, scorer, extra_params=extra_params,
                                  landmarks=landmarks, start_params=fits[0] if fits else None)
    assert sampled.candidates is not None  # sample_person keeps them
    return ImageCandidates(image, crop, crop_image(image, crop), keypoints, sampled.candidates, detection,
                           tuple(name for name, _ in extra), landmarks)


def write_sample_outputs(
    result: ImageCandidates, out_dir: str | Path, faces: np.ndarray | None = None
) -> dict[str, Path]:
    """Write candidates.npz, candidates.json and overlay.png into out_dir.

    faces: (F, 3) the body model's triangles, to draw meshes on the overlay (without
    them the overlay shows projected joints only).
    Returns {'npz' | 'json' | 'overlay': path}.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    c = result.candidates
    M = c.num_hypotheses
    scores = c.scores[0].numpy() if c.scores is not None else np.full(M, np.nan, np.float32)
    paths = {"npz": out / "candidates.npz", "json": out / "candidates.json", "overlay": out / "overlay.png"}
    # Through temporary files: a crash or a full disk leaves the previous outputs, not half files.
    arrays: dict[str, Any] = dict(
        params=c.params[0].numpy(), pose=c.pose_aa[0].numpy(), betas=c.betas[0].numpy(),
        cam=c.cam[0].numpy(), joints=c.joints[0].numpy(), keypoints_px=c.keypoints_px[0].numpy(),
        scores=scores, crop_center=result.crop.center.astype(np.float32),
        crop_size=np.float32(result.crop.size), detected_keypoints_px=result.keypoints_px,
    )
    if result.landmarks is not None:
        arrays["landmarks"] = result.landmarks
    with atomic_output(paths["npz"], "wb") as fh:
        np.savez(fh, **arrays)
    order = c.ranking()[0].tolist()
    rank = {idx: r + 1 for r, idx in enumerate(order)}
    scored = c.scores is not None
    entries = [
        {"index": m, "score": float(scores[m]) if scored else None, "rank": rank[m] if scored else None,
         "source": result.source(m)}
        for m in range(M)
    ]
    doc = {
        "num_hypotheses": M,
        "scored": scored,
        "zero_noise_index": 0,
        "extra_indices": {name: M - len(result.extra_names) + k for k, name in enumerate(result.extra_names)},
        "crop": {"center": result.crop.center.tolist(), "size": result.crop.size},
        "candidates": entries,
    }
    with atomic_output(paths["json"]) as fh:
        fh.write(json.dumps(doc, indent=1))
    save_image(paths["overlay"], render_overlay(result, faces))
    return paths


def _score_colour(score: float | None) -> np.ndarray:
    """RGB: red (0) to green (1) through yellow; blue when unscored."""
    if score is None or not np.isfinite(score):
        return np.array([70.0, 130.0, 255.0])
    s = float(np.clip(score, 0.0, 1.0))
    return np.array([255.0 * min(1.0, 2 * (1 - s)), 255.0 * min(1.0, 2 * s), 40.0])


def render_overlay(
    result: ImageCandidates, faces: np.ndarray | None = None, top_k: int = OVERLAY_TOP_K, alpha: float = 0.45
) -> np.ndarray:
    """The photo with the top-k candidates drawn over it: (h, w, 3) uint8, the photo's
    (H, W) scaled down so that the longer side is at most OVERLAY_MAX_SIDE.

    Meshes are filled face by face far to near (painter's order) with Lambert shading in
    a colour for their score, blended translucently, best candidate on top; then the
    detected keypoints (white dots) and the crop box (white square).
    """
    c = result.candidates
    height, width = result.image.shape[:2]
    scale = min(1.0, OVERLAY_MAX_SIDE / max(height, width))
    image = result.image
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(result.image, size, interpolation=cv2.INTER_AREA)
    canvas = image.astype(np.float32)
    chosen = c.ranking()[0, :top_k].tolist()
    for m in reversed(chosen):
        score = None if c.scores is None else float(c.scores[0, m])
        colour = _score_colour(score)
        layer, mask = _draw_candidate(result, m, faces, colour, scale, image.shape[:2])
        canvas[mask] = (1 - alpha) * canvas[mask] + alpha * layer[mask]
    out = canvas.round().clip(0, 255).astype(np.uint8)
    for x, y, conf in result.keypoints_px:
        if conf > 0:
            cv2.circle(out, (int(round(x * scale)), int(round(y * scale))), 3, (255, 255, 255), -1, cv2.LINE_AA)
    corners = scale * result.crop.crop_norm_to_image(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64))
    cv2.polylines(out, [np.round(corners).astype(np.int32)], True, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _draw_candidate(
    result: ImageCandidates, m: int, faces: np.ndarray | None, colour: np.ndarray, scale: float,
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """One candidate on a blank layer of ``size`` (h, w), photo pixels times ``scale``:
    (h, w, 3) float32 colours and (h, w) bool coverage."""
    c = result.candidates
    layer = np.zeros((*size, 3), np.float32)
    if faces is None or c.vertices is None:
        pts = np.round(c.joints_px[0, m].numpy() * scale).astype(np.int32)
        for p in pts:
            cv2.circle(layer, (int(p[0]), int(p[1])), 4, colour.tolist(), -1)
        return layer, np.asarray(layer.any(-1))
    verts = c.vertices[0, m].numpy().astype(np.float64)
    s, tx, ty = c.cam[0, m].numpy().astype(np.float64)
    xy = s * (verts[:, :2] + [tx, ty])
    px = result.crop.crop_norm_to_image(xy) * scale
    tri = verts[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    # Light from the camera (-z in the OpenCV frame); faces turned away are not drawn.
    facing = -normals[:, 2]
    order = np.argsort(-tri[:, :, 2].mean(1))
    order = order[facing[order] > 0]
    shade = 0.35 + 0.65 * facing
    polys = np.round(px[faces] * 4).astype(np.int32)
    for f in order:
        cv2.fillConvexPoly(layer, polys[f], (colour * shade[f]).tolist(), cv2.LINE_8, 2)
    return layer, np.asarray(layer.any(-1))
