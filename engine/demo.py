"""A ready-to-open demo project, built from what the installation itself can make.

``create_demo_project(folder)`` writes into ``folder``:

* ``synthetic/studio`` and ``synthetic/wild``: a few synthetic people per domain rendered
  by ``engine.data.synth`` (SPIN npz with exact labels), imported as the datasets
  ``synthetic-studio`` and ``synthetic-wild``;
* ``photos/``: public-domain photos of people that installed packages ship (found at run
  time, e.g. scikit-image's astronaut), imported as ``photos`` through the detector;
* the bundled checkpoints (``resources/checkpoints/base``, ``scorer``) registered, and
  candidates sampled (and scored) for every person when they are installed; the scorer
  is then calibrated on the demo's own candidates (``engine.projects.calibration``: a
  copy whose scores centre on 0.5 here) and the candidates re-scored with it;
* ``demo.adhmr``, the project, and ``.demo-complete`` once everything is there.

Data paths are stored relative to the project, so the folder can be moved. A complete
demo is left as it is; an interrupted one is rebuilt.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import DataError
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

if TYPE_CHECKING:
    from engine.store import Project

log = logging.getLogger(__name__)

PROJECT_NAME = "demo.adhmr"
MARKER = ".demo-complete"
PER_DOMAIN = 12
IMAGE_SIZE = 256
SEED = 7
DEMO_M = 10
# (file name, scikit-image loader): photos of people in scikit-image's bundled data.
PHOTOS = (("astronaut.png", "astronaut"), ("cameraman.png", "camera"))
# Shares of the progress bar per stage.
_STAGES = {"synth": 0.5, "import": 0.15, "photos": 0.1, "sample": 0.2, "calibrate": 0.05}


@dataclass(frozen=True)
class DemoSummary:
    """What the demo holds: dataset name -> persons, checkpoints registered, runs sampled,
    and notes on what was left out."""

    datasets: dict[str, int]
    checkpoints: list[str]
    sampled: int
    notes: list[str]


def demo_project_path(folder: str | Path) -> Path:
    """Where the demo's project file is in ``folder``."""
    return Path(folder) / PROJECT_NAME


def demo_exists(folder: str | Path) -> bool:
    """Whether ``folder`` holds a complete demo."""
    return (Path(folder) / MARKER).is_file() and demo_project_path(folder).is_file()


def read_summary(folder: str | Path) -> DemoSummary | None:
    """The summary a complete demo recorded, or None."""
    try:
        return DemoSummary(**json.loads((Path(folder) / MARKER).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _stage(progress: ProgressFn, start: float, share: float) -> Callable[[ProgressEvent], None]:
    def report(e: ProgressEvent) -> None:
        progress(ProgressEvent(start + share * e.fraction, e.message, e.metrics))

    return report


def _clear(folder: Path) -> None:
    """Remove what an earlier (interrupted or forced) build left, and nothing else."""
    project = demo_project_path(folder)
    for p in (folder / MARKER, project, project.with_name(project.name + "-wal"),
              project.with_name(project.name + "-shm"), project.with_name(project.name + ".lock")):
        p.unlink(missing_ok=True)
    for d in (folder / "synthetic", folder / "photos", folder / f"{project.stem}_data"):
        shutil.rmtree(d, ignore_errors=True)


def find_photos(folder: Path) -> list[Path]:
    """Write the person photos installed packages ship into ``folder``; their paths."""
    try:
        from skimage import data
    except ImportError:
        log.info("scikit-image is not installed: the demo has no real photos")
        return []
    from engine.image_io import save_image

    out = []
    for name, loader in PHOTOS:
        try:
            image = np.asarray(getattr(data, loader)())
        # A missing or undownloadable data file raises whatever its fetcher raises.
        except Exception as e:  # noqa: BLE001
            log.info("scikit-image photo %s unavailable (%s)", loader, e)
            continue
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        save_image(folder / name, image[..., :3].astype(np.uint8))
        out.append(folder / name)
    return out


def create_demo_project(
    folder: str | Path,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    force: bool = False,
) -> Path:
    """Build the demo in ``folder`` (see the module docstring); returns the project file.

    A complete demo already there is returned untouched unless ``force``.
    Raises DataError when ``folder`` is a file, JobCancelled when cancelled (the partial
    demo is rebuilt on the next call).
    """
    from engine.data.synth import generate_dataset
    from engine.models.sample_settings import SampleSettings
    from engine.projects.checkpoints import bundled_checkpoint, register_checkpoint
    from engine.projects.importing import import_dataset
    from engine.projects.sampling import sample_dataset
    from engine.store import Project, list_datasets

    folder = Path(folder).absolute()
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: is a file, the demo needs a folder")
    project_path = demo_project_path(folder)
    if demo_exists(folder) and not force:
        log.info("%s: a complete demo is already there", folder)
        return project_path
    _clear(folder)
    folder.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    at = 0.0
    share = _STAGES["synth"] / 2
    annotations = {}
    for domain in ("studio", "wild"):
        annotations[domain] = generate_dataset(
            folder / "synthetic" / domain, PER_DOMAIN, domain, seed=SEED, size=IMAGE_SIZE, workers=1,
            progress=_stage(progress, at, share), should_cancel=should_cancel,
        )
        at += share
    with Project.create(project_path) as project:
        share = _STAGES["import"] / 2
        for domain, path in annotations.items():
            import_dataset(project, [path], name=f"synthetic-{domain}",
                           progress=_stage(progress, at, share), should_cancel=should_cancel)
            at += share
        check_cancel(should_cancel)
        photos = find_photos(folder / "photos")
        if photos:
            report = import_dataset(project, photos, name="photos", progress=_stage(progress, at, _STAGES["photos"]),
                                    should_cancel=should_cancel)
            notes += [f"photo {where} left out: {why}" for where, why in report.rejected]
        else:
            notes.append("no person photos found in the installed packages (scikit-image)")
        at += _STAGES["photos"]
        registered = {}
        for kind in ("base", "scorer"):
            weights = bundled_checkpoint(kind)
            if weights is None:
                notes.append(f"no bundled {kind} checkpoint installed: none registered")
            else:
                registered[kind] = register_checkpoint(project, weights)
        sampled = 0
        datasets = list_datasets(project)
        if "base" in registered:
            share = _STAGES["sample"] / max(len(datasets), 1)
            for ds in datasets:
                out = sample_dataset(
                    project, ds.id, checkpoint=registered["base"], scorer=registered.get("scorer"),
                    settings=SampleSettings(num_candidates=DEMO_M), progress=_stage(progress, at, share),
                    should_cancel=should_cancel,
                )
                sampled += out["sampled"]
                at += share
        else:
            notes.append("no candidates sampled (no base checkpoint)")
        if sampled and "scorer" in registered:
            from engine.projects.calibration import calibrate_scorer

            scorer_weights = bundled_checkpoint("scorer")
            assert scorer_weights is not None  # registered above, so present
            calibrated = calibrate_scorer(project, scorer_weights, [ds.id for ds in datasets],
                                          project.data_dir / "checkpoints", should_cancel=should_cancel,
                                          progress=lambda e: progress(ProgressEvent(at, f"calibrating: {e.message}")))
            if calibrated is not None:
                registered["scorer-calibrated"] = calibrated[0]
                notes.append(f"scorer calibrated on the demo's candidates (logit offset {calibrated[1]:.2f})")
        at += _STAGES["calibrate"]
        summary = DemoSummary(
            datasets={ds.name: _count_persons(project, ds.id) for ds in datasets},
            checkpoints=sorted(registered),
            sampled=sampled,
            notes=notes,
        )
    (folder / MARKER).write_text(json.dumps(summary.__dict__, indent=1))
    progress(ProgressEvent(1.0, "demo ready"))
    return project_path


def _count_persons(project: Project, dataset_id: int) -> int:
    from engine.projects.sampling import dataset_persons

    return len(dataset_persons(project, dataset_id))
