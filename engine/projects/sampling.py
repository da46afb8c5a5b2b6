"""Sample candidate bodies for every person of a dataset, and score them, into the project.

Each person is sampled on its own with the run's seed, so a person's candidates do not
depend on which others were sampled with it, and a run stopped half way resumes by
skipping the persons that already have a run of this checkpoint and seed. Where a
person has a 3D label, each candidate's MPJPE, PA-MPJPE and PVE against it are stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from engine.body.model import BodyModel
from engine.data.crops import CropTransform, crop_image, transform_keypoints
from engine.data.landmark_tokens import tokens_of
from engine.data.dataset import normalise_image
from engine.devices import pick_device
from engine.errors import AdhmrError, ImageError, ShapeError
from engine.image_io import load_image
from engine.models.candidates import Candidates, decode_candidates
from engine.models.param_layout import ParamLayout
from engine.models.protocols import Sampler, Scorer
from engine.models.sample_and_score import can_start, sample_person
from engine.models.sample_settings import SampleSettings
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.projects.checkpoints import resolve_checkpoint
from engine.store import (
    PersonRecord,
    Project,
    add_sample_run,
    get_dataset,
    image_files,
    persons_of_image,
    sample_runs_of_person,
)

log = logging.getLogger(__name__)

FIT_BATCH = 16
"""People fitted together when a dataset is sampled from their fits (a fit costs about a
second alone, a fraction of that a person in a batch)."""

def dataset_persons(project: Project, dataset: str | int) -> list[tuple[Path, PersonRecord]]:
    """(image file, person) of every person of a dataset, by image then person id."""
    ds = get_dataset(project, dataset)
    out = []
    files = image_files(project, ds.id)
    with project.session() as s:
        for image_id, path in files:
            out += [(path, p) for p in persons_of_image(s, image_id)]
    return out


class ImageCache:
    """The last image read (persons come grouped by image)."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._image: np.ndarray | None = None

    def get(self, path: Path) -> np.ndarray:
        if path != self._path or self._image is None:
            self._image, self._path = load_image(path), path
        return self._image

    def get_or_warn(self, path: Path, person_id: int) -> np.ndarray | None:
        """The image, or None after logging why it cannot be read (one bad file must not
        stop a job over a whole dataset)."""
        try:
            return self.get(path)
        except ImageError as e:
            log.warning("person %d: %s", person_id, e)
            return None


@dataclass(frozen=True)
class CropInput:
    """One person's crop as a model reads it: image (1, 3, S, S) normalised, keypoints
    (1, 17, 3) normalised crop coordinates + confidence, and the crop itself."""

    image: torch.Tensor
    keypoints: torch.Tensor
    crop: CropTransform


def crop_input(image: np.ndarray, person: PersonRecord, size: int, device: str | torch.device) -> CropInput:
    """The model input of ``person`` in ``image`` (H, W, 3) uint8 at crop side ``size``."""
    crop = CropTransform.for_box(np.asarray(person.box), size)
    pixels = normalise_image(crop_image(image, crop))[None].to(device)
    kp = torch.from_numpy(transform_keypoints(person.keypoints, crop))[None].to(device)
    return CropInput(pixels, kp, crop)


def decode_for(params: torch.Tensor, crop: CropTransform, layout: ParamLayout, body: BodyModel) -> Candidates:
    """Decode (1, M, D) raw parameters of one person whose crop is ``crop``."""
    return decode_candidates(
        params, layout, body, torch.tensor(crop.center[None], dtype=torch.float32),
        torch.tensor([crop.size], dtype=torch.float32),
    )


def label_errors(
    person: PersonRecord, cands: Candidates, layout: ParamLayout, body: BodyModel
) -> dict[str, np.ndarray] | None:
    """(M,) errors of each candidate against the person's label, for every registered
    metric (``engine.metric_registry``), by metric name."""
    from engine.metric_registry import compute_errors

    if person.label_params is None or person.label_params.size != layout.dim:
        return None
    rot, betas, _ = layout.split(torch.from_numpy(person.label_params)[None])
    if cands.vertices is None:
        raise ShapeError("label errors need the candidates' meshes")
    with torch.no_grad():
        gt = body(rot, betas)
        assert gt.vertices is not None  # skinned by default
        joints = cands.joints.reshape(-1, *cands.joints.shape[-2:])
        vertices = cands.vertices.reshape(-1, *cands.vertices.shape[-2:])
        m = joints.shape[0]
        errors = compute_errors(joints, vertices, gt.joints.cpu().repeat(m, 1, 1), gt.vertices.cpu().repeat(m, 1, 1))
    return {name: v.numpy() for name, v in errors.items()}


def sample_dataset(
    project: Project,
    dataset: str | int,
    checkpoint: str | int | None = None,
    scorer: str | int | None = None,
    settings: SampleSettings = SampleSettings(),
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> dict[str, Any]:
    """Sample ``settings.num_candidates`` candidates for each person of ``dataset`` and
    store them as runs (every person with ``settings.seed``).

    checkpoint: the base (or DPO) model (see ``checkpoints.resolve_checkpoint``; None =
        the newest registered, else the bundled one). scorer: a scorer reference to score
        the candidates with, or None to leave them unscored.
    Returns outputs: dataset, checkpoint_id, scorer_id, persons, sampled, skipped (had a
    run already), failed (unreadable image), num_candidates, steps, seed.
    Raises CheckpointError, StoreError, DeviceError; JobCancelled between persons.
    """
    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.scorer import HMRScorer

    dev = pick_device(settings.device)
    persons = dataset_persons(project, dataset)
    base_rec = resolve_checkpoint(project, checkpoint, ("base", "dpo"))
    scorer_rec = None if scorer is None else resolve_checkpoint(project, scorer, ("scorer",))
    body = BodyModel(device=dev)
    model = DiffusionHMR.load(base_rec.path, body=body, device=dev)
    score_model = None if scorer_rec is None else HMRScorer.load(scorer_rec.path, body=body, device=dev)
    cache = ImageCache()
    sampled = skipped = failed = 0
    for first in range(0, len(persons), FIT_BATCH):
        chunk = persons[first : first + FIT_BATCH]
        # People to sample in this chunk: fitted together (a person's fit is the same in a batch).
        todo = [person for _, person in chunk
                if not any(r.checkpoint_id == base_rec.id and r.seed == settings.seed
                           for r in sample_runs_of_person(project, person.id))]
        starts = dict(zip((p.id for p in todo), person_fits(todo, model, body, settings)))
        for n, (path, person) in enumerate(chunk, start=first):
            check_cancel(should_cancel)
            if person.id not in starts:
                skipped += 1
            elif (image := cache.get_or_warn(path, person.id)) is None:
                failed += 1
            else:
                store_person_samples(project, image, person, model, body, settings, base_rec.id, score_model,
                                     start=starts[person.id])
                sampled += 1
            progress(ProgressEvent((n + 1) / len(persons), f"{n + 1}/{len(persons)} persons sampled"))
    return {
        "dataset": get_dataset(project, dataset).name,
        "checkpoint_id": base_rec.id,
        "scorer_id": None if scorer_rec is None else scorer_rec.id,
        "persons": len(persons),
        "sampled": sampled,
        "skipped": skipped,
        "failed": failed,
        "num_candidates": settings.num_candidates,
        "steps": settings.steps,
        "seed": settings.seed,
    }


def store_person_samples(
    project: Project, image: np.ndarray, person: PersonRecord, model: Sampler, body: BodyModel,
    settings: SampleSettings, checkpoint_id: int | None, scorer: Scorer | None = None,
    should_cancel: CancelFn = never_cancel, start: torch.Tensor | None | Literal["fit"] = "fit",
) -> tuple[int, Candidates]:
    """Sample, decode and score one stored person, measure the candidates against its
    label (when it has one) and store them as a sample run.

    With ``settings.fit_start`` > 0 the samples start from the person's body fit: fitted
    here ("fit", about a second; README, Starting from the fit), or given as ``start``
    ((1, D) from ``person_fits``; None: from noise). The fit is not stored as a candidate.
    image: (H, W, 3) uint8, the person's photo. Returns (run id, the decoded candidates).
    Raises JobCancelled (checked after sampling: a cancelled run stores nothing).
    """
    if isinstance(start, str):
        start = person_fits([person], model, body, settings)[0]
    _, sampled = sample_person(image, np.asarray(person.box), person.keypoints, model, body, settings, scorer,
                               landmarks=tokens_of(person), start_params=start)
    check_cancel(should_cancel)
    cands = sampled.candidates
    assert cands is not None  # sample_person keeps them
    try:
        errors = label_errors(person, cands, model.layout, body)
    except AdhmrError as e:
        log.warning("person %d: no errors against its label (%s)", person.id, e)
        errors = None
    scores = None if sampled.scores is None else sampled.scores[0].numpy()
    run_id = add_sample_run(
        project, person.id, sampled.params[0].numpy(), seed=settings.seed, steps=settings.steps,
        checkpoint_id=checkpoint_id, scores=scores, errors=errors,
        fit_start=0.0 if start is None else float(settings.fit_start),
    )
    return run_id, cands


def person_fits(persons: Sequence[PersonRecord], model: Sampler, body: BodyModel,
                settings: SampleSettings) -> list[torch.Tensor | None]:
    """Each stored person's body fit, (1, D), to start the samples from, all fitted in one
    batch; None for all when the settings do not start from a fit or the sampler cannot,
    and for a person who cannot be fitted (fewer than ``MIN_KEYPOINTS`` confident
    keypoints, a bad box; logged: the samples then start from noise)."""
    if settings.fit_start == 0 or not can_start(model) or not persons:
        return [None] * len(persons)
    from engine.fitting import fit_detected
    from engine.projects.fitting import MIN_KEYPOINTS

    fittable = []
    for p in persons:
        if int((np.asarray(p.keypoints)[:, 2] > 0).sum()) >= MIN_KEYPOINTS:
            fittable.append(p)
        else:
            log.info("person %d: too few keypoints to fit, sampled from noise", p.id)
    try:
        params = fit_detected(fittable, body).result.params if fittable else torch.zeros(0)
        fits = {p.id: params[k : k + 1] for k, p in enumerate(fittable)}
    except AdhmrError as e:
        if len(fittable) == 1:
            log.warning("person %d: sampled from noise, not from a fit (%s)", fittable[0].id, e)
            return [None] * len(persons)
        # One bad person must not cost the others their fit: fit each alone.
        return [person_fits([p], model, body, settings)[0] for p in persons]
    return [fits.get(p.id) for p in persons]
