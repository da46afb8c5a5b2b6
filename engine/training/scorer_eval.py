"""How well a scorer ranks candidates of held-out labelled images.

Two protocols. ``engine.evaluation`` ranks the base model's own M samples per image, the
hard case that Select depends on. ``mixed_candidate_correlation`` ranks a fixed mix per
image: the ground truth, 7 noisy copies of it (noise of several sizes on pose, shape,
orientation and camera) and 8 samples of the base model, the kind of set the scorer is
trained on (DESIGN.md). It says whether the scorer tells a good body from a bad one at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.errors import DataError
from engine.metrics import ranking_correlation
from engine.models.scorer import HMRScorer
from engine.training.candidate_noise import ERROR_NAMES
from engine.training.scorer_data import BaseSampler, ValidationSet

MIXED_CANDIDATES = 16
"""Candidates per image in the mixed protocol ..."""
MIXED_BASE_SAMPLES = 8
"""... of which the base model samples this many (the rest: ground truth + noisy copies)."""


def validation_logits(model: HMRScorer, val: ValidationSet) -> np.ndarray:
    """(N, K) the model's logits (5 s, before any calibration offset) for the set's candidates."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model.logits(**chunk) for chunk in val.chunks()]).float().cpu().numpy()
    model.train(was_training)
    return logits


def validation_correlation(logits: np.ndarray, val: ValidationSet) -> dict[str, dict[str, float]]:
    """Per-image Spearman / Pearson correlation of a scorer's ``validation_logits`` with each
    true error of the set, averaged.

    Returns {error name: {'srcc', 'plcc'}}, near +1 for a scorer that gives the lowest-error
    candidates the highest scores (``engine.metrics.ranking_correlation``).
    """
    out = {}
    for name in ERROR_NAMES:
        corr = ranking_correlation(logits, val.errors[name].numpy())
        out[name] = {"srcc": corr.srcc, "plcc": corr.plcc}
    return out


def mixed_candidate_correlation(
    scorer: HMRScorer, base: BaseSampler, body, data: str | Path, max_images: int | None = None, seed: int = 0,
    batch_size: int = 8,
) -> dict[str, dict[str, float]]:
    """The scorer's per-image correlations on the mixed protocol (see the module doc).

    data: labelled people with SMPL pose and camera. Raises DataError when there are none.
    """
    from engine.data.detector_cache import ensure_detections
    from engine.training.scorer_config import ScorerTrainConfig

    if scorer.detector_inputs or getattr(base, "detector_inputs", False):
        ensure_detections(data)
    config = ScorerTrainConfig(
        data=str(data), out="", val=str(data), val_images=max_images or np.iinfo(np.int32).max,
        candidates_per_image=MIXED_CANDIDATES, base_candidates=MIXED_BASE_SAMPLES, seed=seed, batch_size=batch_size,
        detector_inputs=scorer.detector_inputs,
    )
    val = ValidationSet.build(config, body, scorer.config.crop_size, base, held_out=[])
    if val is None:
        raise DataError(f"{data}: no images to measure the scorer on")
    return validation_correlation(validation_logits(scorer, val), val)
