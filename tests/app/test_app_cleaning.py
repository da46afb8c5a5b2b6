"""The Cleaning panel: threshold on the score histogram, overrides through the store, export."""

import numpy as np
import pytest
from app_helpers import keypoints_in_box
from PyQt6.QtCore import Qt
from test_app_curation import candidate_params

from engine import store
from engine.image_io import save_image

N = 10
BOX = (50.0, 20.0, 110.0, 190.0)


def make_cleaning_project(tmp_path, keep_fraction: float = 0.8):
    """A photo dataset of N labelled persons and a cleaning run keeping the top share.

    Person k's score is 0.95 - 0.1 k (person ids in image order). Returns the project path.
    """
    folder = tmp_path / "pseudo"
    folder.mkdir()
    labels = candidate_params(N, seed=1)
    path = tmp_path / "clean.adhmr"
    with store.Project.create(path) as project:
        ds = store.add_dataset(project, "pseudo", "images", str(folder))
        scores = {}
        for k in range(N):
            image = np.full((200, 160, 3), 30 + 20 * k, np.uint8)
            image[20:190, 60:100] = (220, 190, 160)
            save_image(folder / f"p{k}.png", image)
            image_id = store.add_image(project, ds, f"p{k}.png", width=160, height=200)
            pid = store.add_person(project, image_id, BOX, keypoints_in_box(BOX), label_params=labels[k],
                                   label_source="pseudo")
            scores[pid] = 0.95 - 0.1 * k
        store.add_cleaning_run(project, ds, scores, keep_fraction=keep_fraction)
    return path


@pytest.fixture
def cleaning_window(make_window, tmp_path):
    path = make_cleaning_project(tmp_path)
    w = make_window()
    assert w.open_project(path)
    w.docks["cleaning"].raise_()
    panel = w.extra["cleaning"]
    return w, panel


def test_threshold_line_overrides_and_export(qtbot, cleaning_window, tmp_path):
    w, panel = cleaning_window
    qtbot.waitUntil(lambda: panel.visibility.on_screen)
    qtbot.waitUntil(lambda: panel.run is not None)
    project = w.state.project
    run_id = panel.run.id
    model = panel.model
    # The run keeps the top 80 %: the list is by score, the two worst proposed for dropping.
    assert list(model.scores) == pytest.approx([0.95 - 0.1 * k for k in range(N)])
    assert list(model.proposed) == [True] * 8 + [False] * 2
    assert panel.keep_spin.value() == pytest.approx(80.0)
    assert "keeping 8 of 10" in panel.summary.text()

    # Dragging the threshold line to 0.6 proposes dropping six; the spin box follows.
    panel.histogram.line.setValue(0.6)
    assert list(model.proposed) == [True] * 4 + [False] * 6
    assert panel.keep_spin.value() == pytest.approx(40.0)
    assert "keeping 4 of 10" in panel.summary.text() and panel.threshold_moved()
    # The spin box moves the line: keep 70 %.
    panel.set_keep_fraction(0.7)
    assert panel.histogram.threshold == pytest.approx(0.35) and int(model.proposed.sum()) == 7

    # Override: keep the 9th (dropped), drop the 1st, with the keys on the table.
    table = panel.table
    table.setFocus()
    panel.select_rows([8])
    qtbot.keyClick(table, Qt.Key.Key_K)
    panel.select_rows([0, 1])
    qtbot.keyClick(table, Qt.Key.Key_D)
    decisions = {d.person_id: d for d in store.cleaning_decisions(project, run_id)}
    first, second, ninth = (model.decisions[r].person_id for r in (0, 1, 8))
    assert decisions[ninth].override is True and decisions[first].override is False
    assert decisions[second].override is False
    assert list(model.keep) == [False, False, True, True, True, True, True, False, True, False]
    # K went to the panel, not to the window's keypoints toggle.
    assert w.image_pane.keypoints_check.isChecked() == w.state.prefs.show_keypoints
    # One Ctrl+Z undoes the bulk drop of two rows; Ctrl+Y redoes it.
    qtbot.keyClick(table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    decisions = {d.person_id: d for d in store.cleaning_decisions(project, run_id)}
    assert decisions[first].override is None and decisions[second].override is None
    assert decisions[ninth].override is True
    qtbot.keyClick(table, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert store.cleaning_decisions(project, run_id)[0].override is False

    # Export: the moved threshold becomes a new run (overrides carried over), then the file.
    out = tmp_path / "cleaned.npz"
    result = panel.export_cleaned(out)
    assert panel.run.id != run_id and panel.run.threshold == pytest.approx(0.35)
    kept = store.kept_person_ids(project, panel.run.id)
    assert sorted(kept) == sorted(model.decisions[r].person_id for r in (2, 3, 4, 5, 6, 8))
    assert result.written == 6 and out.is_file()
    assert len(np.load(out)["imgname"]) == 6


def test_clean_job_from_the_panel_opens_its_run(qtbot, cleaning_window, tiny_models):
    from app.panels.jobs_runner import JobRunner
    from engine.projects.checkpoints import register_checkpoint

    w, panel = cleaning_window
    qtbot.waitUntil(lambda: panel.run is not None)
    scorer_id = register_checkpoint(w.state.project, tiny_models[1])
    panel.clean_button.click()
    dialog = w.job_dialog
    assert dialog.kind == "clean" and dialog.params()["dataset"] == "pseudo"
    dialog.set_value("keep_fraction", 0.5)
    runner = JobRunner.of(w)
    with qtbot.waitSignal(runner.finished, timeout=60_000) as finished:
        dialog.accept()
    job_id, result = finished.args
    assert result.ok, result.error
    run_id = result.outputs["cleaning_run"]
    # The panel shows the new run: the tiny scorer's scores, half of them kept.
    assert panel.run.id == run_id and panel.run.checkpoint_id == scorer_id
    assert panel.run.keep_fraction == pytest.approx(0.5)
    assert len(panel.model.decisions) == N and int(panel.model.proposed.sum()) == N // 2
    assert panel.model.scores[0] >= panel.model.scores[-1]
