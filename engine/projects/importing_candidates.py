"""Import candidates computed elsewhere (a candidates file) into a project as sample runs.

The whole file is read and validated first (:mod:`engine.projects.candidates_file`), then
written in one transaction: a bad file leaves the project as it was. Each person becomes
a sample run with no checkpoint (seed 0, 0 steps), in a dataset of its own: an image
already in the dataset (same path) and a person already in the image (same box) are
reused, and a run identical to one the person already has is skipped, so importing the
same file twice adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.body.model import BodyModel
from engine.models.param_layout import ParamLayout
from engine.projects.candidates_file import PersonCandidates, read_candidates_file
from engine.projects.importing import image_info
from engine.store import Project, add_dataset, add_image, add_person, add_sample_run, persons_of_image
from engine.store.repo_samples import candidates_of_person, sample_runs_of_person
from engine.store.schema import Dataset, Image

log = logging.getLogger(__name__)

DATASET_FORMAT = "candidates"


@dataclass(frozen=True)
class CandidatesImport:
    """What an import added: dataset name and id, new images and persons, new runs and
    their candidates, and persons whose identical run was already there."""

    dataset: str
    dataset_id: int
    images: int
    persons: int
    runs: int
    candidates: int
    already: int


def import_candidates(
    project: Project, path: str | Path, dataset: str | None = None, body: BodyModel | None = None
) -> CandidatesImport:
    """Import the candidates file ``path`` into ``dataset`` (default: the file's stem;
    created when missing). Raises DataError (bad file, nothing written), ImageError,
    StoreError."""
    persons = read_candidates_file(path, body)
    name = dataset or Path(path).stem
    layout = ParamLayout()
    infos = {c.image: image_info(c.image) for c in persons}
    images = new_persons = runs = count = already = 0
    with project.session(write=True) as s:
        ds_id = s.scalar(select(Dataset.id).where(Dataset.name == name))
        if ds_id is None:
            ds_id = add_dataset(s, name, DATASET_FORMAT)
        image_ids = dict(s.execute(select(Image.path, Image.id).where(Image.dataset_id == ds_id)).all())
        for c in persons:
            if c.image not in image_ids:
                sha, width, height = infos[c.image]
                image_ids[c.image] = add_image(s, ds_id, c.image, sha, width, height)
                images += 1
            person_id, created = _person(s, image_ids[c.image], c)
            new_persons += created
            params = layout.from_axis_angle(
                torch.from_numpy(c.pose), torch.from_numpy(c.betas), torch.from_numpy(c.cam)
            ).numpy()
            if not created and _has_run(s, person_id, params):
                already += 1
                continue
            add_sample_run(s, person_id, params, seed=0, steps=0, checkpoint_id=None, scores=c.scores)
            runs += 1
            count += len(params)
    log.info("imported %d candidates of %d persons from %s into dataset %r", count, runs, path, name)
    return CandidatesImport(name, ds_id, images, new_persons, runs, count, already)


def _person(s: Session, image_id: int, c: PersonCandidates) -> tuple[int, bool]:
    """(person id, created): the image's person with this box, else a new one."""
    for p in persons_of_image(s, image_id):
        if np.allclose(p.box, c.box, atol=1e-3):
            return p.id, False
    keypoints = c.keypoints if c.keypoints is not None else np.zeros((17, 3), np.float32)
    return add_person(s, image_id, c.box, keypoints), True


def _has_run(s: Session, person_id: int, params: np.ndarray) -> bool:
    for run in sample_runs_of_person(s, person_id):
        if run.checkpoint_id is None and run.m == len(params):
            stored = np.stack([c.params for c in candidates_of_person(s, person_id, run.id)])
            if np.allclose(stored, params, atol=1e-6):
                return True
    return False
