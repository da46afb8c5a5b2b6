"""Screenshots of the desktop app for the docs, taken by driving a real window.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/gui_screenshots.py --out docs/screens

Builds the demo project (``engine.demo``) in a temporary folder with settings kept there
too, opens it, and grabs: the start page, the workspace with candidates in 2D and 3D
(filled and wireframe), a photo with its detected keypoints and the average body, the
settings dialog, a group photo (a synthetic composite of four people, detected, sampled)
with every person's best candidate, the panels, and the Pairs panel at full size.

Candidates come from the bundled checkpoints when they are installed (the demo samples
them). Without them (before the first training), each synthetic person gets stand-in
candidates so that the screens show what the views do: its label perturbed by
``engine.training.candidate_noise.noisy_candidates``, scored by an oracle that knows
their true error (score falls with PVE, plus a little noise). They are marked as run
seed 999 and never leave the temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STAND_IN_SEED = 999
STAND_IN_M = 30


def add_stand_in_candidates(project, dataset: str) -> int:
    """Oracle-scored noisy copies of each labelled person's label; runs added."""
    import torch

    from engine import store
    from engine.body.model import BodyModel
    from engine.models.candidates import decode_candidates
    from engine.models.param_layout import ParamLayout
    from engine.projects.labels import label_crop
    from engine.projects.sampling import dataset_persons, label_errors
    from engine.training.candidate_noise import noisy_candidates

    body, layout = BodyModel(), ParamLayout()
    g = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    added = 0
    for _path, person in dataset_persons(project, dataset):
        if person.label_params is None or store.sample_runs_of_person(project, person.id):
            continue
        params = noisy_candidates(torch.from_numpy(person.label_params)[None], STAND_IN_M, g, include_gt=False)
        center, size = label_crop(np.asarray(person.box))
        cands = decode_candidates(params, layout, body, torch.tensor(center[None], dtype=torch.float32),
                                  torch.tensor([size], dtype=torch.float32))
        errors = label_errors(person, cands, layout, body)
        pve = errors["pve"]
        z = (pve - np.median(pve)) / (np.std(pve) + 1e-6)
        scores = 1 / (1 + np.exp(1.5 * z + rng.normal(0, 0.3, len(z))))
        store.add_sample_run(project, person.id, params[0].numpy(), seed=STAND_IN_SEED, steps=0,
                             scores=scores, errors=errors)
        added += 1
    return added


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPO / "docs" / "screens")
    p.add_argument("--size", type=int, nargs=2, default=(1500, 920), metavar=("W", "H"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="adhmr-screens-"))
    os.environ["ADHMR_STUDIO_CONFIG_DIR"] = str(work / "config")

    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    from engine import store
    from engine.demo import create_demo_project
    from engine.projects.checkpoints import bundled_checkpoint

    app = QApplication.instance() or QApplication(sys.argv[:1])
    project_path = create_demo_project(work / "demo")
    if bundled_checkpoint("base") is None:
        with store.Project.open(project_path) as project:
            n = add_stand_in_candidates(project, "synthetic-studio")
        print(f"no bundled checkpoint: {n} persons got oracle-scored stand-in candidates")

    from app.main_window import MainWindow

    def settle(window, ms: int = 300) -> None:
        window.flush_views()
        QTest.qWait(ms)

    def save(widget, name: str) -> None:
        path = args.out / name
        widget.grab().save(str(path))
        print(f"wrote {path}")

    w = MainWindow()
    w.resize(*args.size)
    w.show()
    settle(w)
    save(w, "start_page.png")

    w.open_project(project_path)
    w.resizeDocks([w.docks["images"]], [470], Qt.Orientation.Horizontal)
    w.resizeDocks([w.docks["candidates"]], [230], Qt.Orientation.Vertical)
    sampled = [r for r in w.state.images if r.status != "unsampled"]
    target = sampled[3] if len(sampled) > 3 else (sampled[0] if sampled else w.state.images[0])
    w.state.open_image(target.id)
    if w.state.candidates is not None:
        w.candidate_table.select_rows([0, 1, 2])
    settle(w)
    w.view3d.snap_to_image()
    w.view3d.plotter.camera.Azimuth(25)
    w.view3d.plotter.camera.Elevation(10)
    w.view3d.plotter.render()
    settle(w, 500)
    save(w, "main_window.png")

    w.candidate_table.select_rows([0])
    w.image_pane.wire_check.setChecked(True)
    settle(w)
    save(w.image_pane, "image_view_wireframe.png")
    w.image_pane.wire_check.setChecked(False)

    photos = [r for r in w.state.images if r.path.endswith("astronaut.png")]
    if photos:
        w.state.open_image(photos[0].id)
        settle(w, 500)
        save(w, "photo_keypoints.png")

    dialog = w.open_settings()
    settle(w)
    save(dialog, "settings.png")
    dialog.reject()
    shoot_people(w, work, settle, save)
    shoot_panels(w, work, settle, save)
    w.close()
    return 0


def shoot_people(w, work: Path, settle, save) -> None:
    """people.png: a group photo (``engine.data.synth.composite.STREET``, four people)
    imported into the demo (everyone detected), sampled with the demo's models, and shown
    with All people on: each person's best candidate in its own colour."""
    from engine.body.model import BodyModel
    from engine.data.synth.composite import STREET, scene
    from engine.data.synth.render import SynthBody
    from engine.image_io import save_image
    from engine.projects.importing import import_dataset
    from engine.models.sample_settings import SampleSettings
    from engine.projects.sampling import sample_dataset

    folder = work / "group"
    folder.mkdir(parents=True, exist_ok=True)
    save_image(folder / "street.png", scene(SynthBody(BodyModel()), STREET).image)
    project = w.state.project
    import_dataset(project, [folder / "street.png"], name="group")
    sample_dataset(project, "group", scorer="latest", settings=SampleSettings(num_candidates=10))
    w.state.refresh_images()
    image = next(r for r in w.state.images if r.path.endswith("street.png"))
    w.state.open_image(image.id)
    w.image_pane.all_people_check.setChecked(True)
    if w.state.candidates is not None:
        w.candidate_table.select_rows([0])
        w.set_all_visible(False)  # the current person's best alone, like everyone else's
    settle(w)
    w.view3d.snap_to_image()
    w.view3d.plotter.render()
    settle(w, 500)
    save(w, "people.png")
    w.image_pane.all_people_check.setChecked(False)


CLEANING_N = 30
CLEANING_CORRUPT = 0.3


def add_stand_in_cleaning_run(project, folder: Path) -> int:
    """A corrupted pseudo-labelled synthetic set, imported as 'pseudo-studio', and a
    cleaning run over it scored by an oracle that knows which labels were corrupted
    (no scorer checkpoint is bundled yet): corrupted labels score low, plus noise."""
    from engine import store
    from engine.data.synth import generate_dataset
    from engine.projects.importing import import_dataset
    from engine.projects.sampling import dataset_persons

    annotations = generate_dataset(folder, CLEANING_N, "studio", seed=3, size=192, workers=1,
                                   corrupt_fraction=CLEANING_CORRUPT)
    import_dataset(project, [annotations], name="pseudo-studio")
    rows = np.load(annotations, allow_pickle=True)
    corrupted = {Path(str(name)).name: bool(c) for name, c in zip(rows["imgname"], rows["is_corrupted"])}
    rng = np.random.default_rng(0)
    scores = {}
    for path, person in dataset_persons(project, "pseudo-studio"):
        z = 1.6 - 3.2 * corrupted[Path(path).name] + rng.normal(0, 0.9)
        scores[person.id] = float(1 / (1 + np.exp(-z)))
    ds = store.get_dataset(project, "pseudo-studio")
    return store.add_cleaning_run(project, ds.id, scores, keep_fraction=0.7)


def shoot_panels(w, work: Path, settle, save) -> None:
    """curation.png, cleaning.png and jobs.png: the Pairs, Cleaning and Jobs panels of the
    open demo (its candidates must exist); adds the stand-in cleaning run to the demo."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest

    add_stand_in_cleaning_run(w.state.project, work / "pseudo")
    w.state.refresh_images()
    sampled = [r for r in w.state.images if r.status != "unsampled"]
    w.resizeDocks([w.docks["candidates"]], [420], Qt.Orientation.Vertical)

    # Pairs: the first pair confirmed (the key of the scorer's side), the next shown.
    if sampled:
        w.state.open_image(sampled[1].id if len(sampled) > 1 else sampled[0].id)
    w.docks["curation"].raise_()
    panel = w.extra["curation"]
    settle(w, 400)
    item = panel.current
    if item is not None and item.pair is not None:
        panel.setFocus()
        QTest.keyClick(panel, Qt.Key.Key_A if item.side_of(item.pair.winner_id) == "a" else Qt.Key.Key_B)
    settle(w, 600)
    save(w, "curation.png")
    # The same panel at full size: its own window as large as the main one.
    dock = w.docks["curation"]
    dock.setFloating(True)
    dock.resize(w.width(), w.height() - 60)
    settle(w, 800)
    save(dock, "curation_full.png")
    dock.setFloating(False)
    settle(w, 300)

    # Cleaning: the stand-in run over a corrupted set, 60 % kept, one sample kept by hand.
    cleaning = w.extra["cleaning"]
    w.docks["cleaning"].raise_()
    settle(w, 300)
    cleaning.show_dataset("pseudo-studio")
    rows = len(cleaning.model.decisions)
    if rows:
        cleaning.override_rows([rows - 1], True)
        cleaning.set_keep_fraction(0.6)
        cleaning.select_rows([1])
    for _ in range(20):
        settle(w, 100)
    save(w, "cleaning.png")

    # Jobs: a small synth job and a short base training run with its live loss curves.
    from app.panels.jobs_runner import JobRunner
    from engine.jobs import JobSpec

    jobs = w.extra["jobs"]
    w.docks["jobs"].raise_()
    runner = JobRunner.of(w)
    synth = runner.start(JobSpec("synth", {"n": 8, "domain": "wild", "size": 128, "name": "synth-wild-small"}))
    while runner.is_running(synth):
        settle(w, 200)
    train = runner.start(JobSpec("train-base", {
        "dataset": "synthetic-studio", "steps": 40, "batch_size": 4, "crop_size": 64, "width": 32, "layers": 1,
        "heads": 2, "log_every": 1, "workers": 0, "device": "cpu", "val_every": 1000, "save_every": 1000}))
    while runner.is_running(train) and max((e.fraction for e in runner.events(train)), default=0.0) < 0.6:
        settle(w, 200)
    jobs.select_job(train)
    settle(w, 500)
    save(w, "jobs.png")
    runner.cancel(train)
    while runner.is_running(train):
        settle(w, 200)


if __name__ == "__main__":
    sys.exit(main())
