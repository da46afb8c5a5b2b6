"""The fit for people in a photo: pixels in, candidates in the diffusion model's layout out.

Each person's camera is for the square crop of its box (``square_crop``: the box's
centre, side = longer box side x 1.2), the crop the diffusion model samples in, so a fit
decodes, scores and draws exactly like a sampled candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from engine.data.crops import square_crop
from engine.detect.keypoints import BLAZEPOSE_TO_COCO17
from engine.errors import ShapeError
from engine.fitting.smplify import FitConfig, FitResult, Progress, fit_bodies
from engine.models.candidates import Candidates, decode_candidates
from engine.models.param_layout import ParamLayout

NUM_BLAZEPOSE = 33


@dataclass(frozen=True, eq=False)
class PeopleFit:
    """result: the FitResult (params (N, D)). crop_center: (N, 2) px. crop_size: (N,) px."""

    result: FitResult
    crop_center: np.ndarray
    crop_size: np.ndarray

    def candidates(self, body, layout: ParamLayout = ParamLayout(), with_vertices: bool = True) -> Candidates:
        """The fits decoded as candidates, one per person: (N, 1, ...)."""
        return decode_candidates(self.result.params[:, None], layout, body, torch.from_numpy(self.crop_center).float(),
                                 torch.from_numpy(self.crop_size).float(), with_vertices=with_vertices)


def crops_of(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """boxes: (N, 4) x0, y0, x1, y1 px -> crop centres (N, 2) and sides (N,) px."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if not np.isfinite(boxes).all():
        raise ShapeError("person boxes hold NaN or infinite values")
    pairs = [square_crop(b) for b in boxes]
    centre = np.array([c for c, _ in pairs], np.float64).reshape(-1, 2)
    size = np.array([s for _, s in pairs], np.float64)
    if (size <= 0).any():
        raise ShapeError(f"person box of zero size: {boxes[int(np.argmin(size))].round(1).tolist()}")
    return centre, size


def keypoints_to_crop(keypoints_px: np.ndarray, centre: np.ndarray, size: np.ndarray) -> np.ndarray:
    """(N, 17, 3) px + confidence -> (N, 17, 3) normalised crop coordinates + confidence."""
    kp = np.array(keypoints_px, np.float64)
    kp[..., :2] = (kp[..., :2] - centre[:, None]) / (size[:, None, None] / 2)
    return kp


def world_to_coco(world_landmarks: np.ndarray | None, n: int) -> np.ndarray | None:
    """(N, 33, 3) BlazePose world landmarks (rows of NaN = none) -> (N, 17, 3) at COCO-17."""
    if world_landmarks is None:
        return None
    w = np.asarray(world_landmarks, np.float64)
    if w.shape[0] != n or w.shape[1:] != (NUM_BLAZEPOSE, 3) and w.shape[1:] != (NUM_BLAZEPOSE, 4):
        raise ShapeError(f"world landmarks: expected ({n}, 33, 3) metres, got {w.shape}")
    return w[:, list(BLAZEPOSE_TO_COCO17), :3]


def fit_detected(people: Sequence[Any], body, focal_px: np.ndarray | None = None) -> PeopleFit:
    """``fit_people`` for N people as the detector gives them (a ``PersonDetection``, a
    stored person: anything with ``keypoints`` (17, 3) px + confidence, ``box`` (4,) px and
    ``world_landmarks`` (33, 3) metres or None), all in one batch. focal_px: (N,) or None."""
    world = np.stack([np.full((NUM_BLAZEPOSE, 3), np.nan) if w is None else np.asarray(w, np.float64)[:, :3]
                      for w in (getattr(p, "world_landmarks", None) for p in people)])
    return fit_people(np.stack([np.asarray(p.keypoints, np.float64) for p in people]),
                      np.stack([np.asarray(p.box, np.float64) for p in people]), body, world_landmarks=world,
                      focal_px=focal_px)


def fit_crops(keypoints: torch.Tensor, landmarks: torch.Tensor | None, body,
              config: FitConfig = FitConfig()) -> torch.Tensor:
    """The body fitted to B people as a model reads them (evaluation's batches).

    keypoints: (B, 17, 3) normalised crop coordinates + confidence. landmarks: (B, 33, 6)
    the detector's landmark tokens (``engine.data.landmark_tokens``: world x, y, z, ...,
    found last), or None; a person not found is fitted to the 2D keypoints alone.
    Returns (B, D) parameters in the diffused layout, cameras for the same crops.
    """
    world = None
    if landmarks is not None:
        tokens = torch.as_tensor(landmarks, dtype=torch.float32)
        world = tokens[:, list(BLAZEPOSE_TO_COCO17), :3].clone()
        world[tokens[:, 0, -1] <= 0] = float("nan")
    return fit_bodies(torch.as_tensor(keypoints, dtype=torch.float32), body, world=world, config=config).params


def fit_people(
    keypoints_px: np.ndarray,
    boxes: np.ndarray,
    body,
    world_landmarks: np.ndarray | None = None,
    init: np.ndarray | torch.Tensor | None = None,
    config: FitConfig = FitConfig(),
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    focal_px: np.ndarray | None = None,
) -> PeopleFit:
    """Fit the body to N people of photos.

    keypoints_px: (N, 17, 3) COCO-17 pixels + confidence. boxes: (N, 4) px.
    world_landmarks: (N, 33, 3) BlazePose world landmarks, metres, hip-midpoint origin,
        camera axes; a row of NaN for a person without them; None for nobody.
    init: (N, D) candidates to refine (their cameras for these boxes' crops), or None.
    focal_px: (N,) each photo's focal length in pixels when its camera is calibrated: the
        fit then projects with perspective in the person's crop; None: weak perspective.
    Raises ShapeError for malformed input.
    """
    centre, size = crops_of(boxes)
    focal = None
    if focal_px is not None:
        focal = np.asarray(focal_px, np.float64).reshape(-1)
        if focal.shape != size.shape or not (focal > 0).all():
            raise ShapeError(f"focal lengths: expected {len(size)} positive values, got {focal.round(1).tolist()}")
        focal = focal / (size / 2)
    return _fit_in_crops(keypoints_px, centre, size, body, world_landmarks, init, config, progress, should_cancel,
                         focal)


def refine_candidates(
    params: np.ndarray | torch.Tensor,
    keypoints_px: np.ndarray,
    crop_center: np.ndarray,
    crop_size: np.ndarray,
    body,
    world_landmarks: np.ndarray | None = None,
    steps: int | None = None,
) -> PeopleFit:
    """A few fit steps from N candidates (the app's refine): each candidate's camera is
    for its crop (crop_center (N, 2) px, crop_size (N,) px, as ``Candidates`` were decoded
    with). params: (N, D). keypoints_px: (N, 17, 3). steps: body steps (default
    ``FitConfig.refine_steps``). Returns the refined candidates in the same crops."""
    config = FitConfig() if steps is None else replace(FitConfig(), refine_steps=int(steps))
    centre = np.asarray(crop_center, np.float64).reshape(-1, 2)
    size = np.asarray(crop_size, np.float64).reshape(-1)
    if (size <= 0).any() or not (np.isfinite(centre).all() and np.isfinite(size).all()):
        raise ShapeError("crops: every crop needs a finite centre and a side > 0")
    return _fit_in_crops(keypoints_px, centre, size, body, world_landmarks, params, config, None, None)


def _fit_in_crops(keypoints_px, centre, size, body, world_landmarks, init, config, progress, should_cancel,
                  focal=None) -> PeopleFit:
    kp = np.asarray(keypoints_px, np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (17, 3):
        raise ShapeError(f"keypoints: expected (N, 17, 3) pixels + confidence, got {kp.shape}")
    if len(centre) != len(kp):
        raise ShapeError(f"{len(kp)} people's keypoints but {len(centre)} crops")
    world = world_to_coco(world_landmarks, len(kp))
    result = fit_bodies(
        torch.from_numpy(keypoints_to_crop(kp, centre, size)).float(), body,
        world=None if world is None else torch.from_numpy(world).float(),
        init=None if init is None else torch.as_tensor(init, dtype=torch.float32),
        config=config, progress=progress, should_cancel=should_cancel,
        focal=None if focal is None else torch.from_numpy(focal),
    )
    return PeopleFit(result, centre.astype(np.float32), size.astype(np.float32))
