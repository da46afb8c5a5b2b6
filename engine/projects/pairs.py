"""Preference pairs stored in a project: propose them from scored candidates, read them back.

The file-level pair logic (selection, merging of manual over automatic decisions) is in
:mod:`engine.training.pairs`; this module only moves pairs between it and the store, and
is what the app and the jobs call (``log_odds``, ``select_pairs`` and ``PairConfig`` come
through here too, so front ends see one project-level API).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from engine.data.crops import square_crop
from engine.data.landmark_tokens import tokens_of
from engine.errors import AdhmrError
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.projects.sampling import dataset_persons
from engine.store import (
    PairProposal,
    Project,
    add_auto_pairs,
    candidates_of_person,
    get_checkpoint,
    get_dataset,
    get_person,
    iter_pairs,
    list_pairs,
    sample_runs_of_person,
)
from engine.store.schema import PAIR_STATUSES
from engine.training.pairs import PairConfig, PreferencePair, log_odds, merge_pairs, select_pairs

__all__ = ["PairConfig", "PreferencePair", "log_odds", "project_pairs", "propose_project_pairs", "select_pairs"]

log = logging.getLogger(__name__)


def propose_project_pairs(
    project: Project,
    dataset: str | int,
    config: PairConfig = PairConfig(),
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> dict[str, Any]:
    """Propose automatic pairs in a project from its stored, scored candidates.

    Each sample run of each person of ``dataset`` whose candidates all have scores gives
    pairs by :func:`select_pairs` (config's num_candidates, steps and seed are not used:
    the candidates exist already). Pairs already in the project, and manual decisions on
    them, are left as they are, so a re-run resumes. Returns outputs: dataset, persons,
    runs, unscored (runs without scores), added (new pairs), proposed (pairs found).
    """
    persons = dataset_persons(project, dataset)
    runs = unscored = added = proposed = 0
    for n, (_, person) in enumerate(persons):
        check_cancel(should_cancel)
        by_run: dict[int, list] = {}
        for c in candidates_of_person(project, person.id):
            by_run.setdefault(c.run_id, []).append(c)
        proposals = []
        for cands in by_run.values():
            runs += 1
            if any(c.score is None for c in cands) or len(cands) < config.top_k + config.bottom_k:
                unscored += 1
                continue
            scores = np.array([c.score for c in cands])
            for w, lo in select_pairs(scores, config):
                proposals.append(PairProposal(person.id, cands[w].id, cands[lo].id, float(scores[w] - scores[lo])))
        proposed += len(proposals)
        added += add_auto_pairs(project, proposals)
        progress(ProgressEvent((n + 1) / max(1, len(persons)), f"{n + 1}/{len(persons)} persons, {added} new pairs"))
    return {"dataset": get_dataset(project, dataset).name, "persons": len(persons), "runs": runs,
            "unscored": unscored, "added": added, "proposed": proposed}


def project_pairs(project: Project, dataset: str | int | None = None, training_only: bool = True) -> list[PreferencePair]:
    """A project's pairs as records (all datasets, or one), merged by :func:`merge_pairs`.

    The crop is the model's crop of the person's box; provenance names the checkpoint
    of the sample run of each pair's candidates; landmarks are the stored person's
    detector outputs (``tokens_of``; None for a person stored without them).
    """

    allowed = None
    if dataset is not None:
        allowed = {p.id for _, p in dataset_persons(project, dataset)}
    ids = {r.id: r for r in list_pairs(project)}
    persons: dict[int, Any] = {}
    checkpoints: dict[int, str | None] = {}
    out = []
    for rec in iter_pairs(project, PAIR_STATUSES):
        if allowed is not None and rec["person_id"] not in allowed:
            continue
        pid = rec["person_id"]
        if pid not in persons:
            person = get_person(project, pid)
            runs = sample_runs_of_person(project, pid)
            ckpt = None
            if runs and runs[-1].checkpoint_id is not None:
                ckpt = checkpoints.setdefault(runs[-1].checkpoint_id,
                                              get_checkpoint(project, runs[-1].checkpoint_id).path)
            persons[pid] = (person, ckpt)
        person, ckpt = persons[pid]
        row = ids[rec["pair_id"]]
        center, size = square_crop(np.asarray(rec["box"], np.float64))
        try:
            out.append(PreferencePair(
                image=rec["image"], crop_center=center, crop_size=size, keypoints=person.keypoints,
                winner=rec["winner"], loser=rec["loser"], winner_score=rec["winner_score"],
                loser_score=rec["loser_score"], source=rec["source"], status=rec["status"],
                person=f"project:person#{pid}", winner_key=f"candidate:{row.winner_id}",
                loser_key=f"candidate:{row.loser_id}", base_checkpoint=ckpt, box=rec["box"],
                pair_id=rec["pair_id"], landmarks=tokens_of(person)))
        except AdhmrError as exc:
            log.warning("pair %d skipped: %s", rec["pair_id"], exc)
    return merge_pairs(out, training_only)
