"""Centre a scorer's displayed scores on a project's own candidates.

RankNet training ignores a constant shift of the logits, so a scorer's sigmoid can sit
near 1 (or 0) for every candidate of a new set of images: the demo's scores bunched at
0.986-1.000 with the bundled scorer's offset, which was taken on other candidates. The
fix is the offset the scorer already has (``calibration.logit_offset`` in its config):
set it to the median raw logit over these candidates, so their scores centre on 0.5.
Rankings, Select and correlations do not change; only the numbers shown do.

The calibrated scorer is a copy (weights and config) registered in the project, and the
candidates are re-scored with it, so what is stored and what a new sample run scores agree.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.errors import CheckpointError
from engine.models.checkpoint import checkpoint_paths
from engine.progress import CancelFn, ProgressFn, never_cancel, no_progress
from engine.store import Project

log = logging.getLogger(__name__)

SATURATED = 1e-6
"""Scores within this of 0 or 1 carry no logit: clipped there, and calibration repeats."""
MAX_PASSES = 3
TOLERANCE = 0.1
"""Median logit (after calibration) close enough to 0 to stop."""


def median_logit(scores: np.ndarray) -> float:
    """Median of log(s / (1 - s)) over scores (clipped ``SATURATED`` from 0 and 1)."""
    s = np.clip(np.asarray(scores, np.float64), SATURATED, 1 - SATURATED)
    return float(np.median(np.log(s / (1 - s))))


def dataset_scores(project: Project, datasets: Sequence[str | int]) -> np.ndarray:
    """(N,) stored scores of every scored candidate of the persons of ``datasets``."""
    from engine.projects.sampling import dataset_persons
    from engine.store import candidates_of_person

    return np.array([c.score for ds in datasets for _, p in dataset_persons(project, ds)
                     for c in candidates_of_person(project, p.id) if c.score is not None], np.float64)


def calibrate_scorer(
    project: Project,
    scorer_path: str | Path,
    datasets: Sequence[str | int],
    out_dir: str | Path,
    device: str | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> tuple[int, float] | None:
    """Calibrate the scorer at ``scorer_path`` on the stored scores of ``datasets``.

    Writes ``out_dir/scorer-calibrated[-k]`` (a copy with the new offset), registers it,
    re-scores the datasets' candidates with it and returns (its checkpoint id, the offset);
    None when no candidate has a score. A pass whose scores are still bunched at 0 or 1
    (saturated, so the median is clipped) is followed by another, at most ``MAX_PASSES``.
    """
    from engine.projects.checkpoints import read_checkpoint_config, register_checkpoint
    from engine.projects.scoring import score_dataset

    scores = dataset_scores(project, datasets)
    if not scores.size:
        return None
    weights = checkpoint_paths(scorer_path)[0]
    config = read_checkpoint_config(weights)
    if config.get("kind") != "scorer":
        raise CheckpointError(f"{weights}: not a scorer checkpoint (kind {config.get('kind')!r})")
    offset = float((config.get("calibration") or {}).get("logit_offset", 0.0))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = None
    for k in range(MAX_PASSES):
        shift = median_logit(scores)
        if result is not None and abs(shift) < TOLERANCE:
            break
        offset += shift
        stem = out_dir / ("scorer-calibrated" if k == 0 else f"scorer-calibrated-{k + 1}")
        target_weights, target_config = checkpoint_paths(stem)
        shutil.copyfile(weights, target_weights)
        config["calibration"] = {"logit_offset": offset,
                                 "from": f"median logit of {scores.size} candidates of {', '.join(map(str, datasets))}"}
        target_config.write_text(json.dumps(config, indent=1), encoding="utf-8")
        scorer_id = register_checkpoint(project, target_weights)
        for ds in datasets:
            score_dataset(project, ds, scorer=scorer_id, device=device, progress=progress,
                          should_cancel=should_cancel)
        scores = dataset_scores(project, datasets)
        result = (scorer_id, offset)
        log.info("scorer calibrated on %d candidates: logit offset %.3f (median score now %.3f)",
                 scores.size, offset, float(np.median(scores)))
    return result
