"""Screenshots of the desktop app for the docs, taken by driving a real window.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/gui_screenshots.py --out docs/screens

Builds the demo project (``engine.demo``) in a temporary folder with settings kept there
too, opens it, and grabs: the start page, the workspace with candidates in 2D and 3D
(filled and wireframe), a photo with its detected keypoints and the average body, and
the settings dialog.

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
    w.resizeDocks([w.docks["images"]], [360], Qt.Orientation.Horizontal)
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
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
