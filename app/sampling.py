"""The work behind the app's Sample and Pick-person actions (no Qt: runs in a worker).

``sample_person`` loads the models the preferences name (kept in a ``ModelCache``) and
runs ``engine.projects.sampling.store_person_samples`` on one stored person with the
preferences' sampling settings (``Preferences.sample_settings``): it samples, scores,
measures each candidate against the person's 3D label when there is one, and stores the run. Checkpoints are
found with ``engine.projects.checkpoints`` (a file is registered in the project).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.settings import Preferences
from engine import store
from engine.errors import CheckpointError
from engine.image_io import load_image
from engine.models.candidates import Candidates
from engine.plugins import BUILTIN_SAMPLER, BUILTIN_SCORER
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)


def checkpoint_ref(setting: str) -> str | int | None:
    """A checkpoint preference as an ``engine.projects.checkpoints`` reference.

    '' -> None (the project's newest, else the bundled one); 'project:<id>' -> the id;
    anything else is a file path (registered in the project on first use).
    """
    if not setting:
        return None
    if setting.startswith("project:"):
        return int(setting.split(":", 1)[1])
    return setting


class ModelCache:
    """Loaded body model, diffusion model, scorer and detector, reused across runs.

    Thread-safe: the GUI thread may ask for the body while a worker loads the models.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple, Any] = {}

    def _get(self, key: tuple, build) -> Any:
        with self._lock:
            if key not in self._items:
                self._items[key] = build()
            return self._items[key]

    def body(self, prefs: Preferences):
        from engine.body.model import BodyModel

        return self._get(("body", prefs.body_model, prefs.device),
                         lambda: BodyModel(prefs.body_model or None, device=prefs.device))

    def base(self, prefs: Preferences, path: str):
        from engine.models.diffusion_hmr import DiffusionHMR

        body = self.body(prefs)
        return self._get(("base", path, prefs.body_model, prefs.device),
                         lambda: DiffusionHMR.load(path, body=body, device=prefs.device))

    def scorer(self, prefs: Preferences, path: str):
        from engine.models.scorer import HMRScorer

        body = self.body(prefs)
        return self._get(("scorer", path, prefs.body_model, prefs.device),
                         lambda: HMRScorer.load(path, body=body, device=prefs.device))

    def plugin(self, prefs: Preferences, kind: str, name: str, checkpoint: str | None):
        """A plug-in sampler (kind 'sampler') or scorer ('scorer') by name (engine.plugins)."""
        from engine.plugins import load_sampler, load_scorer

        body = self.body(prefs)
        load = load_sampler if kind == "sampler" else load_scorer
        return self._get(("plugin", kind, name, checkpoint, prefs.body_model, prefs.device),
                         lambda: load(name, checkpoint, body, prefs.device))

    def detector(self):
        from engine.detect import PoseDetector

        return self._get(("detector",), PoseDetector)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True, eq=False)
class SampleOutcome:
    """A stored sampling run: its id and its decoded candidates (meshes included).

    scored: whether a scorer scored the candidates. base, scorer: checkpoint labels.
    """

    run_id: int
    person_id: int
    candidates: Candidates
    scored: bool
    base: str
    scorer: str


@dataclass(frozen=True)
class LoadedModels:
    """The models a sampling run uses, with what the run records and shows of them."""

    body: Any
    model: Any
    base_id: int | None
    base_label: str
    scorer: Any
    scorer_label: str


def load_models(project: store.Project, prefs: Preferences, models: ModelCache) -> LoadedModels:
    """The body, sampler and scorer the preferences name (the scorer None when there is
    none). Raises CheckpointError when a named checkpoint is missing."""
    from engine.projects.checkpoints import resolve_checkpoint

    body = models.body(prefs)
    if prefs.sampler == BUILTIN_SAMPLER:
        base_rec = resolve_checkpoint(project, checkpoint_ref(prefs.base_checkpoint), ("base", "dpo"))
        model = models.base(prefs, base_rec.path)
        base_id, base_label = base_rec.id, _label(base_rec)
    else:
        model = models.plugin(prefs, "sampler", prefs.sampler, _file_setting(prefs.base_checkpoint))
        base_id, base_label = None, f"plug-in {prefs.sampler}"
    scorer, scorer_label = None, "none"
    if prefs.scorer_model != BUILTIN_SCORER:
        scorer = models.plugin(prefs, "scorer", prefs.scorer_model, _file_setting(prefs.scorer_checkpoint))
        scorer_label = f"plug-in {prefs.scorer_model}"
    else:
        scorer_rec = None
        try:
            scorer_rec = resolve_checkpoint(project, checkpoint_ref(prefs.scorer_checkpoint), ("scorer",))
        except CheckpointError:
            if prefs.scorer_checkpoint:
                raise
            log.info("no scorer checkpoint: candidates stay unscored")
        if scorer_rec is not None:
            scorer, scorer_label = models.scorer(prefs, scorer_rec.path), _label(scorer_rec)
    return LoadedModels(body, model, base_id, base_label, scorer, scorer_label)


def sample_person(project: store.Project, image_path: Path, person: store.PersonRecord, prefs: Preferences,
                  models: ModelCache, progress: ProgressFn = no_progress,
                  should_cancel: CancelFn = never_cancel, start: Any = "fit") -> SampleOutcome:
    """Sample ``prefs.sample_count`` candidates of a stored person and store them as a run.

    Candidates are scored when a scorer is set or registered (or bundled), and measured
    against the person's label when it has one (``engine.projects.sampling.store_person_samples``).
    start: "fit" fits the person here when the preferences start from the fit; else its
    fit (1, D) from ``person_fits`` (several people fitted in one batch), or None.
    Raises CheckpointError (no model), ImageError, ShapeError, JobCancelled.
    """
    from engine.projects.sampling import store_person_samples

    progress(ProgressEvent(0.05, "loading models"))
    loaded = load_models(project, prefs, models)
    check_cancel(should_cancel)
    seed = len(store.sample_runs_of_person(project, person.id))
    fitting = " from the fit" if prefs.fit_start > 0 else ""
    progress(ProgressEvent(0.2, f"sampling {prefs.sample_count} candidates{fitting} ({prefs.sampler_steps} steps)"))
    run_id, candidates = store_person_samples(project, load_image(image_path), person, loaded.model, loaded.body,
                                              prefs.sample_settings(seed), loaded.base_id, loaded.scorer,
                                              should_cancel, start=start)
    progress(ProgressEvent(1.0, "done"))
    return SampleOutcome(run_id, person.id, candidates, candidates.scores is not None, loaded.base_label,
                         loaded.scorer_label)


def _file_setting(setting: str) -> str | None:
    """A checkpoint preference a plug-in can use: a file path, else None (its default)."""
    return None if not setting or setting.startswith("project:") else setting


def _label(rec: store.CheckpointRecord) -> str:
    return f"#{rec.id} {Path(rec.path).stem}"


def detect_person(project: store.Project, image_id: int, image_rgb: np.ndarray,
                  box: tuple[float, float, float, float] | None, models: ModelCache,
                  progress: ProgressFn = no_progress, should_cancel: CancelFn = never_cancel) -> int:
    """Run the detector (inside ``box`` if given) and store the person found; its id.

    Raises NoPersonError when nobody is found.
    """
    progress(ProgressEvent(0.1, "detecting the person"))
    detection = models.detector().detect(image_rgb, box)
    check_cancel(should_cancel)
    return store.add_person(project, image_id, detection.box, detection.keypoints)
