"""Work is never lost by a click: Save As, the question before a scratch project with work
is deleted (quit, close), and a photo looked at while a project is open."""

import numpy as np
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication, QFileDialog, QMessageBox
from test_app_curation import candidate_params

from engine import store


def answer(button_text: str, asked: list[str]) -> None:
    """Click ``button_text`` in the next modal question box (its text goes to ``asked``)."""
    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        asked.append(box.text())
        next(b for b in box.buttons() if b.text().replace("&", "") == button_text).click()

    QTimer.singleShot(0, click)


def scratch_with_work(qtbot, make_window, tmp_path):
    """A window looking at a photo in a scratch project whose person has candidates."""
    from app_helpers import make_images

    photo = make_images(tmp_path / "in")[0]
    w = make_window()
    assert w.open_photo(photo)
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=30_000)
    assert not w.scratch_has_work()  # the photo and its detected person alone: nothing to keep
    store.add_sample_run(w.state.project, w.state.person.id, candidate_params(4), seed=0, steps=1,
                         scores=np.array([0.9, 0.5, 0.4, 0.1]))
    w.state.reload_candidates()
    assert w.scratch_has_work()
    return w


def test_save_as_goes_on_in_the_copy_on_the_same_photo(qtbot, make_window, project_path, tmp_path):
    w = make_window()
    assert w.open_project(project_path)
    w.step_image(1)
    assert w.actions["save_as"].isEnabled()
    assert w.save_as(tmp_path / "elsewhere" / "copy")
    assert w.state.project.path == (tmp_path / "elsewhere" / "copy.adhmr").resolve()
    assert w.state.image.path == "synthetic.png" and w.state.image_rgb is not None  # the photo is found
    assert "copy.adhmr" in w.windowTitle() and project_path.exists()


def test_quitting_offers_to_save_a_scratch_project(qtbot, make_window, tmp_path, monkeypatch):
    w = scratch_with_work(qtbot, make_window, tmp_path)
    scratch = w.scratch_dir
    asked: list[str] = []
    answer("Cancel", asked)
    w.close()
    assert w.isVisible() and scratch.exists() and "deleted when you quit" in asked[0]

    target = tmp_path / "kept" / "astronaut.adhmr"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    answer("Save As…", asked)
    w.close()
    assert not w.isVisible() and not scratch.exists()
    with store.Project.open(target) as kept:
        person = store.persons_of_image(kept, store.list_images(kept)[0].id)[0]
        assert len(store.candidates_of_person(kept, person.id)) == 4


def test_closing_a_scratch_project_can_discard_it(qtbot, make_window, tmp_path):
    w = scratch_with_work(qtbot, make_window, tmp_path)
    scratch, asked = w.scratch_dir, []
    answer("Discard", asked)
    w.close_project()
    assert "deleted when you close it" in asked[0]
    assert not scratch.exists() and w.state.project is None


def test_a_photo_looked_at_with_a_project_open_can_join_it(qtbot, make_window, project_path, tmp_path):
    from skimage import data

    from engine.image_io import save_image

    photo = tmp_path / "more" / "crew.png"
    photo.parent.mkdir()
    save_image(photo, data.astronaut())
    w = make_window()
    assert w.open_project(project_path)
    asked: list[str] = []
    answer("Cancel", asked)
    assert not w.open_photo(photo)
    assert w.state.project.path == project_path and len(w.state.images) == 2 and "Add crew.png" in asked[0]

    answer("Add to test.adhmr", asked)
    assert w.open_photo(photo)
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=30_000)
    assert w.state.project.path == project_path and w.scratch_dir is None
    assert len(w.state.images) == 3 and w.state.image.path.endswith("crew.png")
