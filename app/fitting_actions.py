"""Image ▸ Fit a Candidate and Refine Selected Candidates: the body fit (``engine.fitting``,
SMPLify-style, to the person's 2D keypoints and world landmarks) as a candidate beside
the diffusion ones, and a few fit steps from chosen candidates. Each result is stored as
a run of its own (0 sampler steps), scored by the scorer when there is one and measured
against the person's 3D label when it has one, so it ranks and compares like any other.
"""

from __future__ import annotations

import logging

import numpy as np

from engine import store
from engine.errors import CheckpointError
from engine.progress import CancelFn, ProgressEvent, ProgressFn, never_cancel, no_progress

log = logging.getLogger(__name__)

DECODE_RESOLUTION = 256
"""Output side of the crop handed to ``decode_for`` for the label errors: decoding reads
only the crop's centre and side in photo pixels, so any resolution gives the same meshes."""


def fit_candidates(project: store.Project, image_path, person: store.PersonRecord, init: np.ndarray | None,
                   prefs, models, progress: ProgressFn = no_progress,
                   should_cancel: CancelFn = never_cancel) -> tuple[int, int]:
    """Fit the person (init None) or refine the candidates ``init`` (K, D); store the
    result as a run. Returns (run id, candidates stored)."""
    import torch

    from app.sampling import checkpoint_ref
    from engine.data.landmark_tokens import landmark_tensor
    from engine.fitting import fit_people
    from engine.image_io import load_image
    from engine.projects.checkpoints import resolve_checkpoint
    from engine.projects.sampling import crop_input, decode_for, label_errors

    body = models.body(prefs)
    k = 1 if init is None else len(init)
    world = None if person.world_landmarks is None else np.repeat(person.world_landmarks[None], k, axis=0)

    def report(done: int, total: int) -> None:
        progress(ProgressEvent(0.8 * done / max(total, 1), f"step {done}/{total}"))

    fit = fit_people(np.repeat(person.keypoints[None], k, axis=0), np.repeat(np.asarray(person.box)[None], k, axis=0),
                     body, world, init=init, progress=report, should_cancel=should_cancel)
    params = fit.result.params.numpy().astype(np.float32)
    image = load_image(image_path)
    scores = None
    try:
        rec = resolve_checkpoint(project, checkpoint_ref(prefs.scorer_checkpoint), ("scorer",))
    except CheckpointError:
        rec = None
        log.info("no scorer checkpoint: the fit stays unscored")
    layout = None
    if rec is not None:
        scorer = models.scorer(prefs, rec.path)
        layout = scorer.layout
        inp = crop_input(image, person, scorer.config.crop_size, scorer.device)
        decoded = decode_for(torch.from_numpy(params)[None], inp.crop, layout, body)
        # Scored on its own (no consensus with siblings): a fit has none of its kind.
        scores = scorer.score_candidates(inp.image, inp.keypoints, decoded, consensus=False,
                                         landmarks=landmark_tensor(person, scorer.device))[0].cpu().numpy()
    errors = None
    if person.label_params is not None:
        from engine.data.crops import CropTransform
        from engine.models.param_layout import ParamLayout

        layout = layout or ParamLayout()
        crop = CropTransform.for_box(np.asarray(person.box), DECODE_RESOLUTION)
        errors = label_errors(person, decode_for(torch.from_numpy(params)[None], crop, layout, body), layout, body)
    progress(ProgressEvent(0.95, "storing"))
    run_id = store.add_sample_run(project, person.id, params, seed=0, steps=0, scores=scores, errors=errors)
    return run_id, len(params)


def _start(window, init: np.ndarray | None, what: str) -> bool:
    s = window.state
    if s.project is None or s.person is None:
        window.show_error("Open a photo with a person first.")
        return False
    if int((s.person.keypoints[:, 2] > 0).sum()) < 4:
        window.show_error("This person has too few keypoints to fit a body to.")
        return False
    image_id, person_id = s.image.id, s.person.id

    def done(result) -> None:
        run_id, n = result
        s.refresh_images()
        if s.image is not None and s.image.id == image_id and s.person is not None and s.person.id == person_id:
            s.reload_candidates()
            fresh = [i for i in range(len(s.candidates)) if s.candidates.run_ids[i] == run_id]
            s.select(fresh)
        window.show_message(f"{what}: {n} candidate{'s' if n != 1 else ''} stored (run {run_id}), selected")

    task = window.tasks.start(what, fit_candidates, s.project, s.image_path, s.person, init, s.prefs, s.models,
                              on_done=done, on_error=window.show_error)
    return task is not None


def fit_current(window) -> bool:
    """Fit the body to the current person: a new candidate."""
    return _start(window, None, "Fitting the body")


def refine_selected(window) -> bool:
    """A few fit steps from each selected candidate: refined copies as new candidates."""
    s = window.state
    if s.candidates is None or not s.selected:
        window.show_error("Select the candidates to refine first (rows of the Candidates table).")
        return False
    return _start(window, s.candidates.params[list(s.selected)], "Refining")
