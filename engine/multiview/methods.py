"""The methods the multi-view benchmark compares, each one camera-oriented 3D body per view.

A method takes the views of one moment (each camera's frame, the detector's person in
it and, when calibrated, the camera) and returns, per view, hypotheses (K, 12, 3) in
metres (OpenCV camera axes, any position; see :mod:`engine.multiview.evaluate`) and, for
a scored sampler, their scores (K,). Each view is predicted on its own; the views come
together only so that a method can batch them (the fit optimises all of them at once).

A body estimated in a person's crop is oriented as seen along the crop's ray; with the
camera known, ``blazepose_world`` and ``fit`` turn it into the camera's axes
(``Camera.ray_rotation`` at the crop's centre: 4-7 degrees in the Pose2Sim views).

* ``blazepose_world``: BlazePose's 33 world landmarks (metres, camera-oriented), read at
  the 12 evaluation joints by name.
* ``fit``: the SMPLify-style fit of the body to the detector's COCO-17 keypoints and
  world landmarks (``engine.fitting.fit_people``), read at the body's COCO-17 keypoints;
  with the camera known, it projects with the camera's focal length (perspective in
  the crop) instead of weak perspective.
* ``zero_noise`` / ``select`` / ``min``: a diffusion model's M candidates through the
  project's sampling entry point, read at the body model's COCO-17 keypoints (regressed
  from the mesh, the points the detector's landmarks name); hypothesis 0 is the
  zero-noise one, Select takes the scorer's best, Min is the oracle best of M.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.data.landmark_tokens import tokens_of
from engine.diffusion import DEFAULT_STEPS
from engine.errors import DataError
from engine.models.sample_settings import FIT_START, GUIDANCE_WORLD_WEIGHT
from engine.multiview.joints import to_eval12

METHOD_GROUPS = ("blazepose_world", "fit", "diffusion")
"""What ``build_methods`` can build; "diffusion" reports zero_noise, select and min."""


@dataclass(frozen=True, eq=False)
class Prediction:
    """hypotheses: (K, 12, 3) metres, camera-oriented. scores: (K,) or None."""

    hypotheses: np.ndarray
    scores: np.ndarray | None = None


class Method(Protocol):
    """names: the result names it reports (one, or the three multi-hypothesis rows)."""

    names: tuple[str, ...]

    def predict(self, images: Sequence[np.ndarray], detections: Sequence[Any],
                cameras: Sequence[Any] | None = None) -> list[Prediction]:
        """images: each view's (H, W, 3) uint8 RGB frame; detections: its PersonDetection;
        cameras: its calibrated ``Camera``, or None when unknown."""
        ...


class BlazePoseWorld:
    """The detector's own 3D world landmarks."""

    names: tuple[str, ...] = ("blazepose_world",)

    def predict(self, images: Sequence[np.ndarray], detections: Sequence[Any],
                cameras: Sequence[Any] | None = None) -> list[Prediction]:
        points = np.stack([to_eval12(np.asarray(d.world_landmarks, np.float64)[:, :3]) for d in detections])
        points = _into_cameras(points, detections, cameras)
        return [Prediction(p[None]) for p in points]


class BodyFit:
    """The body fitted to the detected person alone."""

    names: tuple[str, ...] = ("fit",)

    def __init__(self, body: Any) -> None:
        self.body = body

    def predict(self, images: Sequence[np.ndarray], detections: Sequence[Any],
                cameras: Sequence[Any] | None = None) -> list[Prediction]:
        fitted = fit_views(self.body, detections, cameras).candidates(self.body, with_vertices=False)
        points = _into_cameras(to_eval12(fitted.keypoints3d[:, 0].numpy().astype(np.float64)), detections, cameras)
        return [Prediction(p[None]) for p in points]


def fit_views(body: Any, detections: Sequence[Any], cameras: Sequence[Any] | None) -> Any:
    """The body fitted to each view's detected person, all views in one batch, with each
    camera's focal length when known (a ``PeopleFit``)."""
    from engine.fitting import fit_detected

    focal = None if cameras is None else np.array([(c.K[0, 0] + c.K[1, 1]) / 2 for c in cameras])
    return fit_detected(detections, body, focal_px=focal)


class DiffusionSampler:
    """M candidates of a diffusion model (and its scorer) for the detected person."""

    names: tuple[str, ...] = ("zero_noise", "select", "min")

    def __init__(self, model: Any, scorer: Any | None, body: Any, M: int = 20, steps: int = DEFAULT_STEPS,
                 seed: int = 0, precision: str = "fp32", guidance_scale: float = 0.0,
                 guidance_world: float = GUIDANCE_WORLD_WEIGHT, orient: bool = True, with_fit: bool = False,
                 fit_start: float = FIT_START) -> None:
        self.model, self.scorer, self.body = model, scorer, body
        self.M, self.steps, self.seed, self.precision = M, steps, seed, precision
        self.guidance_scale = guidance_scale
        self.guidance_world = guidance_world
        self.orient = orient
        self.with_fit, self.fit_start = with_fit, fit_start

    def predict(self, images: Sequence[np.ndarray], detections: Sequence[Any],
                cameras: Sequence[Any] | None = None) -> list[Prediction]:
        """The candidates, sampled in the crop (the sampler takes no camera), turned into
        each camera's axes as the other methods are. With the fit, it is the last
        candidate of each view and where the samples start (``fit_start``; 0: from noise)."""
        fits: list[np.ndarray | None] = [None] * len(detections)
        if self.with_fit:
            fits = list(fit_views(self.body, detections, cameras).result.params.numpy())
        out = []
        for k, (image, detection) in enumerate(zip(images, detections)):
            p = self._predict_one(image, detection, fits[k])
            if cameras is not None:
                m = len(p.hypotheses)
                p = Prediction(_into_cameras(p.hypotheses, [detection] * m, [cameras[k]] * m), p.scores)
            out.append(p)
        return out

    def _predict_one(self, image: np.ndarray, detection: Any, fit: np.ndarray | None) -> Prediction:
        from engine.models.pipeline import sample_image
        from engine.models.sample_settings import SampleSettings

        settings = SampleSettings(num_candidates=self.M, steps=self.steps, seed=self.seed, precision=self.precision,
                                  guidance_scale=self.guidance_scale, orient=self.orient,
                                  guidance_world=self.guidance_world, fit_start=self.fit_start)
        result = sample_image(image, self.model, settings, keypoints=np.asarray(detection.keypoints, np.float32),
                              box=tuple(detection.box), scorer=self.scorer, body=self.body,
                              landmarks=tokens_of(detection), extra=() if fit is None else (("fit", fit),))
        c = result.candidates
        scores = None if c.scores is None else c.scores[0].numpy()
        return Prediction(to_eval12(c.keypoints3d[0].numpy()), scores)


def _into_cameras(points: np.ndarray, detections: Sequence[Any], cameras: Sequence[Any] | None) -> np.ndarray:
    """(N, 12, 3) bodies oriented as seen along their crops' rays -> the same in their
    cameras' axes (unchanged without cameras)."""
    if cameras is None:
        return points
    from engine.data.crops import square_crop

    centres = [square_crop(np.asarray(d.box, np.float64))[0] for d in detections]
    turns = np.stack([c.ray_rotation(centre) for c, centre in zip(cameras, centres)])
    return np.einsum("nij,nkj->nki", turns, points)


def build_methods(
    groups: tuple[str, ...] = METHOD_GROUPS,
    checkpoint: str | None = None,
    scorer: str | None = None,
    M: int = 20,
    steps: int = DEFAULT_STEPS,
    seed: int = 0,
    device: str = "cpu",
    guidance_scale: float = 0.0,
    guidance_world: float = GUIDANCE_WORLD_WEIGHT,
    orient: bool = True,
    with_fit: bool = False,
    fit_start: float = FIT_START,
) -> list[Method]:
    """The methods named in ``groups`` (see ``METHOD_GROUPS``), in that order.

    checkpoint / scorer: the diffusion model and scorer (None: the bundled defaults).
    guidance_scale: the diffusion sampler's guided sampling (``SampleSettings``; 0 = none).
    guidance_world: its world-landmark weight (``SampleSettings.guidance_world``).
    orient: turn the candidates to face as the world landmarks do (``SampleSettings.orient``).
    with_fit: add the body fit as each view's last diffusion candidate, as ``adhmr sample``
    does. fit_start: with the fit, start the samples from it noised to this level
    (``SampleSettings.fit_start``; 0: from pure noise).
    Raises DataError for an unknown name, CheckpointError for an unloadable checkpoint.
    """
    unknown = [g for g in groups if g not in METHOD_GROUPS]
    if unknown:
        raise DataError(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHOD_GROUPS)}")
    from engine.body.model import BodyModel

    body = BodyModel(device=device) if {"fit", "diffusion"} & set(groups) else None
    methods: list[Method] = []
    for group in groups:
        if group == "blazepose_world":
            methods.append(BlazePoseWorld())
        elif group == "fit":
            methods.append(BodyFit(body))
        else:
            from engine.models.diffusion_hmr import DiffusionHMR
            from engine.models.scorer import HMRScorer

            model = DiffusionHMR.load(checkpoint, body=body, device=device)
            judge = HMRScorer.load(scorer, body=body, device=device)
            methods.append(DiffusionSampler(model, judge, body, M=M, steps=steps, seed=seed,
                                            guidance_scale=guidance_scale, guidance_world=guidance_world,
                                            orient=orient, with_fit=with_fit, fit_start=fit_start))
    return methods
