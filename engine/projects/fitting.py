"""Pseudo-labels for a project's photos from the body fit (label kind 'pseudo', source fit).

Every person of the dataset without a 3D label is fitted (``engine.fitting``) to its
stored keypoints and, when the detector kept them, its world landmarks; the fit becomes
the person's label in the diffused layout, its camera for the person's box crop, as
``engine.projects.labels`` stores labels. Ground-truth labels are never touched; with
``replace`` earlier pseudo-labels are fitted again. A resumed run skips people already
done (labelled, or listed in ``done_file``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.fitting import FitConfig, fit_people
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.store import Project, get_dataset, image_files, persons_of_image
from engine.store.repo_labels import set_person_label

if TYPE_CHECKING:
    from engine.body.model import BodyModel

log = logging.getLogger(__name__)

LABEL_KIND = "pseudo"
SOURCE = "fit"
MIN_KEYPOINTS = 4
"""People with fewer confident keypoints are not fitted (too little to place a body)."""
BATCH = 16


def persons_to_fit(project: Project, dataset: str | int, replace: bool = False) -> tuple[list[Any], int]:
    """The dataset's persons to fit, and how many cannot be (too few keypoints, or a box
    of zero size)."""
    ds = get_dataset(project, dataset)
    todo, skipped = [], 0
    with project.session() as s:
        for image_id, _ in image_files(project, ds.id):
            for person in persons_of_image(s, image_id):
                if person.label_source == "gt" or (person.label_params is not None and not replace):
                    continue
                x0, y0, x1, y1 = person.box
                if int((person.keypoints[:, 2] > 0).sum()) < MIN_KEYPOINTS or max(x1 - x0, y1 - y0) <= 0:
                    skipped += 1
                    continue
                todo.append(person)
    return todo, skipped


def fit_dataset(
    project: Project,
    dataset: str | int,
    body: BodyModel | None = None,
    config: FitConfig = FitConfig(),
    replace: bool = False,
    use_world: bool = True,
    done_file: str | Path | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> dict[str, Any]:
    """Fit every unlabelled person of ``dataset`` and store the fits as pseudo-labels.

    body: a BodyModel (the configured one when None). replace: refit people whose label
    is a pseudo-label. use_world: use the stored world landmarks. done_file: ids of
    people fitted by this run, so a resumed ``replace`` run does not fit them twice.
    Returns outputs: dataset, persons (to fit at the start), fitted, skipped (people with
    fewer than MIN_KEYPOINTS confident keypoints or a box of zero size), source,
    mean_reprojection_px. Raises JobCancelled between batches.
    """
    todo, skipped = persons_to_fit(project, dataset, replace)
    done_path = None if done_file is None else Path(done_file)
    if done_path is not None and done_path.is_file():
        done = {int(x) for x in done_path.read_text().split() if x.isdigit()}
        todo = [p for p in todo if p.id not in done]
    if body is None and todo:
        from engine.body.model import BodyModel

        body = BodyModel()
    fitted, reproj = 0, []
    for start in range(0, len(todo), BATCH):
        check_cancel(should_cancel)
        batch = todo[start : start + BATCH]

        def step(done: int, steps: int, start: int = start, n: int = len(batch)) -> None:
            frac = (start * steps + done * n) / (max(1, len(todo)) * steps)
            progress(ProgressEvent(min(frac, 1.0), f"fitting {start + n}/{len(todo)} people"))

        fit = fit_people(
            np.stack([p.keypoints for p in batch]), np.array([p.box for p in batch]), body,
            world_landmarks=_world(batch) if use_world else None, config=config,
            progress=step, should_cancel=should_cancel,
        )
        with project.session(write=True) as s:  # a batch is stored whole or not at all
            for person, params in zip(batch, fit.result.params.numpy(), strict=True):
                set_person_label(s, person.id, params, LABEL_KIND)
        if done_path is not None:
            with open(done_path, "a") as f:
                f.write("".join(f"{p.id}\n" for p in batch))
        fitted += len(batch)
        reproj.extend((fit.result.reprojection.numpy() * fit.crop_size / 2).tolist())
    progress(ProgressEvent(1.0, f"fitted {fitted} people"))
    return {
        "dataset": get_dataset(project, dataset).name,
        "persons": len(todo),
        "fitted": fitted,
        "skipped": skipped,
        "source": SOURCE,
        "mean_reprojection_px": float(np.mean(reproj)) if reproj else None,
    }


def _world(batch: list[Any]) -> np.ndarray | None:
    """(N, 33, 3) world landmarks, NaN rows for people without; None when nobody has them."""
    rows = [getattr(p, "world_landmarks", None) for p in batch]
    if all(r is None for r in rows):
        return None
    return np.stack([np.full((33, 3), np.nan) if r is None else np.asarray(r, np.float64)[:, :3] for r in rows])
