"""Cleaning a project's dataset: score each stored label with the scorer, record a run.

The rule (keep the top k %, or above a threshold) and the decisions are
:mod:`engine.training.cleaning`'s; this module reads the labels from the store and writes
the cleaning run back (reviewed, and overridden by hand, in the app's Cleaning view).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from engine.body.model import BodyModel
from engine.data.landmark_tokens import landmark_tokens, tokens_of
from engine.devices import pick_device
from engine.errors import DataError, ImageError
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.projects.checkpoints import resolve_checkpoint
from engine.projects.sampling import ImageCache, crop_input, dataset_persons, decode_for
from engine.store import Project, add_cleaning_run, get_dataset
from engine.training.cleaning import CleaningRule, keep_mask

log = logging.getLogger(__name__)


def _landmarks(person: Any, device: torch.device) -> torch.Tensor:
    """(1, 33, 6) the stored person's detector landmark tokens (``tokens_of``), all
    missing when it has none, for a scorer that reads them."""
    tokens = tokens_of(person)
    return torch.from_numpy(tokens if tokens is not None else landmark_tokens(None, None, None))[None].to(device)


def clean_project_dataset(
    project: Project,
    dataset: str | int,
    rule: CleaningRule,
    scorer: str | int | None = None,
    device: str | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> dict[str, Any]:
    """Score the stored labels of a project dataset and record a cleaning run.

    Persons without a label vector are not part of the run. Returns outputs:
    cleaning_run (the run id), dataset, scorer_id, persons, scored, kept, dropped.
    """
    from engine.models.scorer import HMRScorer

    dev = pick_device(device)
    ds = get_dataset(project, dataset)
    persons = dataset_persons(project, ds.id)
    rec = resolve_checkpoint(project, scorer, ("scorer",))
    body = BodyModel(device=dev)
    model = HMRScorer.load(rec.path, body=body, device=dev)
    cache = ImageCache()
    scores: dict[int, float] = {}
    for n, (path, person) in enumerate(persons):
        check_cancel(should_cancel)
        if person.label_params is not None and person.label_params.size == model.layout.dim:
            try:
                inp = crop_input(cache.get(path), person, model.config.crop_size, dev)
            except ImageError as exc:
                log.warning("person %d: %s", person.id, exc)
            else:
                cands = decode_for(torch.from_numpy(person.label_params)[None, None], inp.crop, model.layout, body)
                landmarks = _landmarks(person, dev) if model.detector_inputs else None
                score = model.score_candidates(inp.image, inp.keypoints, cands, landmarks=landmarks)
                scores[person.id] = float(score[0, 0])
        progress(ProgressEvent((n + 1) / max(1, len(persons)), f"{n + 1}/{len(persons)} persons"))
    if not scores:
        raise DataError(f"dataset {ds.name!r}: no person has a 3D label to score")
    ids = sorted(scores)
    keep = keep_mask(np.array([scores[i] for i in ids]), rule)
    check_cancel(should_cancel)
    run = add_cleaning_run(project, ds.id, scores, keep_fraction=rule.keep_fraction, threshold=rule.threshold,
                           checkpoint_id=rec.id)
    kept = int(keep.sum())
    return {"cleaning_run": run, "dataset": ds.name, "scorer_id": rec.id, "persons": len(persons),
            "scored": len(scores), "kept": kept, "dropped": len(scores) - kept}
