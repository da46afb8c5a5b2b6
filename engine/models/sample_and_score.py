"""Sample M candidates for people, decode their meshes, score them: the one place it is done.

:func:`sample_and_score` works on a batch of prepared crops (evaluation's data loader);
:func:`sample_person` cuts one person's crops out of a photo first (the app, ``adhmr
sample``, the sample job, pairs). Both read every knob from one
:class:`~engine.models.sample_settings.SampleSettings` and take any
:class:`~engine.models.protocols.Sampler` and :class:`~engine.models.protocols.Scorer`.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from engine.body.model import BodyModel
from engine.data.crops import CropTransform, crop_image, transform_keypoints
from engine.data.dataset import normalise_image
from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
from engine.errors import ShapeError
from engine.models.candidates import Candidates, decode_candidates
from engine.models.consensus import mean_sibling_distance
from engine.models.guidance import ReprojectionGuidance
from engine.models.orientation import orient_candidates
from engine.models.param_layout import ParamLayout
from engine.models.precision import inference_precision
from engine.models.protocols import Sampler, Scorer
from engine.models.sample_settings import SampleSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PersonCrops:
    """B persons as a model reads them.

    images: (B, 3, S, S) normalised crops. keypoints: (B, 17, 3) normalised crop
    coordinates + confidence (the same at any S). crop_center: (B, 2) and crop_size: (B,)
    each crop's centre and side in the full image, pixels. landmarks: (B, 33, 6) the
    detector's landmark tokens (``engine.data.landmark_tokens``) for detector-conditioned
    models, or None (read as 'not found').
    """

    images: torch.Tensor
    keypoints: torch.Tensor
    crop_center: torch.Tensor
    crop_size: torch.Tensor
    landmarks: torch.Tensor | None = None


@dataclass(frozen=True, eq=False)
class SampledPersons:
    """What :func:`sample_and_score` returns, all float32 on the CPU.

    params: (B, M, D) raw parameter vectors. candidates: the decoded candidates (scores
    included when scored), or None when not kept. logits: (B, M) the scorer network's
    logits; sibling_mm: (B, M) each candidate's mean PA distance to its siblings, mm;
    scores: (B, M) in [0, 1] (with the consensus term when the settings ask for it);
    all three None without a scorer.
    """

    params: torch.Tensor
    candidates: Candidates | None
    logits: torch.Tensor | None
    sibling_mm: torch.Tensor | None
    scores: torch.Tensor | None


def crop_person(
    image: np.ndarray, box: np.ndarray, keypoints_px: np.ndarray, size: int, landmarks: np.ndarray | None = None,
) -> tuple[CropTransform, PersonCrops]:
    """One person's square crop of side ``size`` px around ``box`` (x0, y0, x1, y1 px).

    image: (H, W, 3) uint8 RGB. keypoints_px: (17, 3) x, y px + confidence. landmarks:
    (33, 6) the person's landmark tokens (``landmark_tokens``), None when unknown.
    Returns the crop and its PersonCrops with B = 1.
    """
    crop = CropTransform.for_box(np.asarray(box, np.float32), size)
    return crop, _crops_of(image, crop, keypoints_px, landmarks)


def _crops_of(
    image: np.ndarray, crop: CropTransform, keypoints_px: np.ndarray, landmarks: np.ndarray | None = None
) -> PersonCrops:
    return PersonCrops(
        normalise_image(crop_image(image, crop))[None],
        torch.from_numpy(transform_keypoints(np.asarray(keypoints_px, np.float32), crop))[None],
        torch.tensor(crop.center[None], dtype=torch.float32), torch.tensor([crop.size], dtype=torch.float32),
        None if landmarks is None else torch.as_tensor(np.asarray(landmarks, np.float32))[None])


def sample_person(
    image: np.ndarray, box: np.ndarray, keypoints_px: np.ndarray, sampler: Sampler, body: BodyModel,
    settings: SampleSettings, scorer: Scorer | None = None, with_vertices: bool = True,
    extra_params: torch.Tensor | None = None, landmarks: np.ndarray | None = None,
    start_params: torch.Tensor | None = None,
) -> tuple[CropTransform, SampledPersons]:
    """Sample, decode and score one person of a photo.

    image: (H, W, 3) uint8 RGB; box: (4,) x0, y0, x1, y1 px; keypoints_px: (17, 3) px +
    confidence. The scorer reads the same region cut again at its own resolution.
    extra_params: (1, K, D) candidates from elsewhere (see ``sample_and_score``).
    landmarks: (33, 6) the detector's landmark tokens of the person, for
    detector-conditioned models (``landmark_tokens.tokens_of``); None when unknown.
    start_params: (1, D) where the samples start (see ``sample_and_score``).
    Returns the sampler's crop and the result (B = 1, candidates kept).
    """
    crop, crops = crop_person(image, box, keypoints_px, sampler.crop_size, landmarks)
    scorer_images = None
    if scorer is not None:
        scorer_images = _crops_of(image, CropTransform(crop.center, crop.size, scorer.crop_size), keypoints_px).images
    return crop, sample_and_score(sampler, body, crops, settings, scorer, scorer_images, with_vertices,
                                  extra_params=extra_params, start_params=start_params)


def sample_and_score(
    sampler: Sampler, body: BodyModel, crops: PersonCrops, settings: SampleSettings, scorer: Scorer | None = None,
    scorer_images: torch.Tensor | None = None, with_vertices: bool = True, keep_candidates: bool = True,
    on_chunk: Callable[[Candidates], None] | None = None, extra_params: torch.Tensor | None = None,
    start_params: torch.Tensor | None = None,
) -> SampledPersons:
    """Sample ``settings.num_candidates`` candidates of B persons, decode and score them.

    extra_params: (B, K, D) candidates from elsewhere for the same crops (the body fit,
    ``engine.fitting``), appended after the M sampled ones and decoded and scored with
    them, so the scorer (and its consensus term) treats them as siblings.
    start_params: (B, D) an estimate per person (the body fit) the samples start from,
    noised to ``settings.fit_start`` of the schedule; unused when that is 0 (None: from
    pure noise whatever the setting).
    crops: the persons at the sampler's crop size. scorer_images: (B, 3, S', S') the same
    regions at the scorer's size (None: the scorer resamples ``crops.images``).
    with_vertices: decode meshes (V x 12 bytes a candidate). keep_candidates: False
    returns no Candidates, so a large M only ever holds one chunk of meshes.
    on_chunk: called with each decoded chunk of hypotheses (all B persons, in order) --
    how evaluation measures errors without keeping the meshes.
    The networks run at ``settings.precision``; decoding and the consensus distances in
    float32. Raises ShapeError for inputs that do not fit the models.
    """
    B = crops.images.shape[0]
    if crops.keypoints.shape[0] != B:
        raise ShapeError(f"crops: {B} images but {crops.keypoints.shape[0]} keypoint sets")
    M = settings.num_candidates
    with torch.no_grad(), inference_precision(settings.precision, sampler.device):
        params = sampler.sample(crops.images.to(sampler.device), crops.keypoints.to(sampler.device), M,
                                steps=settings.steps, eta=settings.eta, seed=settings.seed,
                                chunk_size=settings.chunk_size, **_guidance(sampler, body, crops, settings),
                                **_landmarks(sampler, crops), **_start(sampler, start_params, settings)).float().cpu()
    sampled = params.shape[1]
    if extra_params is not None:
        extra_params = torch.as_tensor(extra_params, dtype=torch.float32).cpu()
        if extra_params.ndim != 3 or tuple(extra_params.shape[::2]) != (B, params.shape[2]):
            raise ShapeError(f"extra candidates: expected ({B}, K, {params.shape[2]}), got {tuple(extra_params.shape)}")
        params = torch.cat([params, extra_params], dim=1)
        M = params.shape[1]
    per_chunk = max(1, settings.chunk_size // B)
    parts: list[Candidates] = []
    logits: list[torch.Tensor] = []
    joints: list[torch.Tensor] = []
    final_params: list[torch.Tensor] = []  # as decoded: turned where oriented
    for m0 in range(0, M, per_chunk):
        cands = decode_candidates(params[:, m0 : m0 + per_chunk], sampler.layout, body, crops.crop_center,
                                  crops.crop_size, with_vertices=with_vertices)
        if settings.orient and crops.landmarks is not None and m0 < sampled:
            cands = _orient_sampled(cands, sampled - m0, sampler.layout, crops, crops.landmarks)
        final_params.append(cands.params)
        if on_chunk is not None:
            on_chunk(cands)
        if scorer is not None:
            images = scorer_images if scorer_images is not None else crops.images
            with torch.no_grad(), inference_precision(settings.precision, scorer.device):
                logits.append(scorer.candidate_logits(images.to(scorer.device), crops.keypoints.to(scorer.device),
                                                      cands, **_landmarks(scorer, crops)).float().cpu())
            joints.append(cands.joints)
        if keep_candidates:
            parts.append(cands)
    candidates = Candidates.concat(parts) if keep_candidates else None
    params = torch.cat(final_params, dim=1)
    if scorer is None:
        return SampledPersons(params, candidates, None, None, None)
    all_logits = torch.cat(logits, dim=1)
    # Procrustes needs float32 SVDs, whatever precision the networks ran in.
    sibling = mean_sibling_distance(torch.cat(joints, dim=1).float())
    scores = scorer.scores_from_logits(all_logits, sibling if settings.consensus else None).float().cpu()
    if candidates is not None:
        candidates = candidates.with_scores(scores)
    return SampledPersons(params, candidates, all_logits, sibling, scores)


def _orient_sampled(cands: Candidates, sampled: int, layout: ParamLayout, crops: PersonCrops,
                    landmarks: torch.Tensor) -> Candidates:
    """A chunk's first ``sampled`` hypotheses turned by the landmarks (N, 33, 6); the rest
    (the fit's extra candidates) stay as given."""
    turned = orient_candidates(cands.hypotheses(slice(0, sampled)), landmarks.cpu(), crops.keypoints.cpu(),
                               layout, crops.crop_center, crops.crop_size)
    if sampled >= cands.num_hypotheses:
        return turned
    return Candidates.concat([turned, cands.hypotheses(slice(sampled, None))])


def _guidance(sampler: Sampler, body: BodyModel, crops: PersonCrops, settings: SampleSettings) -> dict:
    """The sampler's extra keyword for guided sampling: none at scale 0, so an unguided
    run (and any plug-in sampler) is called exactly as before. Raises ShapeError for a
    guidance scale asked of a sampler whose ``sample`` takes no ``guidance``."""
    if settings.guidance_scale == 0:
        return {}
    if "guidance" not in inspect.signature(sampler.sample).parameters:
        raise ShapeError(f"sampler {type(sampler).__name__} cannot be guided (its sample() takes no guidance)")
    return {"guidance": ReprojectionGuidance(body, sampler.layout, crops.keypoints, settings.guidance_scale,
                                             landmarks=crops.landmarks, world_weight=settings.guidance_world)}


def can_start(sampler: Sampler) -> bool:
    """Whether the sampler's ``sample`` can start from an estimate (takes ``start``)."""
    return "start" in inspect.signature(sampler.sample).parameters


def _start(sampler: Sampler, start_params: torch.Tensor | None, settings: SampleSettings) -> dict:
    """The sampler's starting-point keywords: none when not asked, or for a sampler whose
    ``sample`` takes no start (a plug-in then samples as it always does, from noise)."""
    if start_params is None or settings.fit_start == 0:
        return {}
    if not can_start(sampler):
        log.info("sampler %s cannot start from the fit (its sample() takes no start): sampling from noise",
                 type(sampler).__name__)
        return {}
    return {"start": torch.as_tensor(start_params, dtype=torch.float32).to(sampler.device),
            "start_level": float(settings.fit_start)}


def _landmarks(model: Sampler | Scorer, crops: PersonCrops) -> dict:
    """The landmark keyword for a detector-conditioned model; none for any other (older
    checkpoints and plug-ins are called exactly as before). A person without detector
    outputs gets all-missing tokens."""
    if not getattr(model, "detector_inputs", False):
        return {}
    B = crops.images.shape[0]
    landmarks = crops.landmarks if crops.landmarks is not None else torch.zeros(B, NUM_LANDMARKS, TOKEN_DIM)
    return {"landmarks": landmarks.to(model.device)}
