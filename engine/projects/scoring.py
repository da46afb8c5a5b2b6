"""Score the stored candidates of a dataset again, with another (or a newer) scorer.

Progress is kept in a file of finished person ids (``done_file``), so a stopped run
resumes with the persons it had not reached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.projects.checkpoints import resolve_checkpoint
from engine.projects.sampling import ImageCache, crop_input, dataset_persons, decode_for
from engine.store import Project, candidates_of_person, get_dataset, set_candidate_scores


def _read_done(done_file: Path | None) -> set[int]:
    if done_file is None or not done_file.is_file():
        return set()
    return {int(line) for line in done_file.read_text().split() if line.isdigit()}


def score_dataset(
    project: Project,
    dataset: str | int,
    scorer: str | int | None = None,
    done_file: str | Path | None = None,
    device: str | None = None,
    consensus: bool = True,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> dict[str, Any]:
    """Score every stored candidate of the persons of ``dataset`` and store the scores.

    scorer: a scorer reference (``checkpoints.resolve_checkpoint``; None = the newest
        registered, else the bundled one). consensus: False scores each candidate by the
        scorer network alone (no sample-consensus term).
    done_file: where finished person ids are appended; persons listed there are skipped.
    Returns outputs: dataset, scorer_id, persons, scored (persons), candidates, skipped,
    failed (unreadable image).
    """
    from engine.body.model import BodyModel
    from engine.data.landmark_tokens import landmark_tensor
    from engine.models.scorer import HMRScorer
    from engine.devices import pick_device

    dev = pick_device(device)
    done_path = None if done_file is None else Path(done_file)
    done = _read_done(done_path)
    persons = dataset_persons(project, dataset)
    rec = resolve_checkpoint(project, scorer, ("scorer",))
    body = BodyModel(device=dev)
    model = HMRScorer.load(rec.path, body=body, device=dev)
    cache = ImageCache()
    scored = n_cands = skipped = failed = 0
    for n, (path, person) in enumerate(persons):
        check_cancel(should_cancel)
        cands = candidates_of_person(project, person.id)
        if person.id in done or not cands:
            skipped += 1
        elif (image := cache.get_or_warn(path, person.id)) is None:
            failed += 1
        else:
            inp = crop_input(image, person, model.config.crop_size, dev)
            scores: dict[int, float] = {}
            by_run: dict[int, list] = {}
            for c in cands:
                by_run.setdefault(c.run_id, []).append(c)
            # One run at a time: a run's candidates are compared with each other (the
            # scorer's consensus term), as when they were sampled.
            for run in by_run.values():
                params = torch.from_numpy(np.stack([c.params for c in run]))[None]
                decoded = decode_for(params, inp.crop, model.layout, body)
                out = model.score_candidates(inp.image, inp.keypoints, decoded, consensus=consensus,
                                             landmarks=landmark_tensor(person, dev))[0].cpu().numpy()
                scores.update({c.id: float(s) for c, s in zip(run, out, strict=True)})
            set_candidate_scores(project, scores)
            scored += 1
            n_cands += len(scores)
            if done_path is not None:
                with open(done_path, "a") as f:
                    f.write(f"{person.id}\n")
        progress(ProgressEvent((n + 1) / len(persons), f"{n + 1}/{len(persons)} persons scored"))
    return {
        "dataset": get_dataset(project, dataset).name,
        "scorer_id": rec.id,
        "persons": len(persons),
        "scored": scored,
        "candidates": n_cands,
        "skipped": skipped,
        "failed": failed,
    }
