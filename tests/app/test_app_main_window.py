"""The main window end to end: open a project, sample, look at candidates in 2D and 3D."""

import numpy as np
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QMouseEvent, QWheelEvent
from PyQt6.QtWidgets import QApplication

from app.views.image_overlay import ImageOverlayView
from engine.diffusion import DEFAULT_STEPS

SAMPLE_TIMEOUT_MS = 60_000


def _sample(qtbot, w):
    w.actions["sample"].trigger()
    assert w.tasks.busy
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=SAMPLE_TIMEOUT_MS)
    assert w.last_error is None
    w.flush_views()


def _wheel(view: ImageOverlayView, steps: int) -> None:
    pos = QPointF(view.viewport().rect().center())
    event = QWheelEvent(pos, view.viewport().mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_no_project_shows_the_start_page(make_window):
    w = make_window()
    assert w.stack.currentWidget() is w.start_page
    assert not w.actions["sample"].isEnabled()
    assert not w.docks["candidates"].isVisible()


def test_sample_select_toggle_zoom_and_switch_images(qtbot, make_window, project_path):
    w = make_window(sample_count=24)
    assert w.open_project(project_path)
    assert w.stack.currentWidget() is w.splitter
    assert w.browser.model.rowCount() == 2
    assert w.state.image.path == "astronaut.png"
    qtbot.waitUntil(lambda: not w.browser.thumbnails.pending(), timeout=10_000)
    assert w.browser.thumbnails.get(str(w.state.image_path)) is not w.browser.thumbnails.placeholder
    # Before sampling: the person's keypoints and box, and the average body in 3D.
    w.flush_views()
    assert w.image_pane.view.keypoint_group is not None and len(w.image_pane.view.box_items) == 1
    assert w.view3d.count_label.text() == "average body"

    _sample(qtbot, w)
    table = w.candidate_table
    assert table.model.rowCount() == 24
    assert w.browser.model.data(w.browser.model.index(0, 1)) == "sampled"
    scores = w.state.candidates.scores
    best = int(np.argmax(scores))
    assert w.state.selected == (best,) and table.candidate_at_row(0) == best  # sorted by rank
    assert list(w.image_pane.view.candidate_items) == [best]
    shown3d = w.view3d.visible_candidates()
    assert len(shown3d) == 20  # display count: the 20 best
    assert shown3d[best] == 1.0 and all(op < 1 for i, op in shown3d.items() if i != best)

    # Selecting rows 2 and 3 of the table draws those candidates in both views.
    table.select_rows([1, 2])
    second, third = table.candidate_at_row(1), table.candidate_at_row(2)
    w.flush_views()
    assert set(w.image_pane.view.candidate_items) == {second, third}
    shown3d = w.view3d.visible_candidates()
    assert shown3d[second] == 1.0 and shown3d[third] == 1.0 and shown3d[best] < 1

    # Key 2 hides the candidate ranked 2 in both views; pressing it again shows it.
    w.image_pane.view.setFocus()
    qtbot.keyClick(w.image_pane.view, Qt.Key.Key_2)
    w.flush_views()
    assert second not in w.state.visible
    assert second not in w.image_pane.view.candidate_items
    assert second not in w.view3d.visible_candidates()
    qtbot.keyClick(w.image_pane.view, Qt.Key.Key_2)
    w.flush_views()
    assert second in w.view3d.visible_candidates()

    # Wheel zooms about the cursor; F fits the photo again.
    view = w.image_pane.view
    fitted = view.zoom()
    _wheel(view, 3)
    assert view.zoom() > fitted * 1.4
    h_before = view.horizontalScrollBar().value()
    view.horizontalScrollBar().setValue(h_before + 40)  # what a drag pans
    assert view.horizontalScrollBar().value() != h_before
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert abs(view.zoom() - fitted) < 1e-6

    # PgDn opens the next image (its average body), PgUp comes back to the candidates,
    # still decoded and drawn.
    decoded = w.state.candidates
    qtbot.keyClick(view, Qt.Key.Key_PageDown)
    assert w.state.image.path == "synthetic.png" and w.state.candidates is None
    assert not w.image_pane.view.candidate_items
    qtbot.keyClick(view, Qt.Key.Key_PageUp)
    assert w.state.image.path == "astronaut.png" and w.state.candidates is decoded
    assert list(w.image_pane.view.candidate_items) == [best]

    # A second run adds its candidates to the person's set.
    _sample(qtbot, w)
    assert len(w.state.candidates) == 48 and len(set(w.state.candidates.run_ids.tolist())) == 2


def test_restart_restores_the_project_image_and_layout(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    w.step_image(1)
    assert w.state.image.path == "synthetic.png"
    w.splitter.setSizes([700, 300])
    sizes = w.splitter.sizes()
    w.close()

    again = make_window()
    assert again.restore_session()
    assert again.state.image.path == "synthetic.png"
    assert again.splitter.sizes() == sizes
    assert str(project_path.resolve()) == again.settings.recent_projects()[0]


def test_settings_dialog_values_persist_across_windows(qtbot, make_window):
    w = make_window()
    dialog = w.open_settings()
    dialog.display_count.setValue(7)
    assert dialog.steps.value() == DEFAULT_STEPS
    dialog.steps.setValue(DEFAULT_STEPS + 1)  # a value other than the default, so persisting it shows
    assert dialog.consensus.isChecked()
    dialog.consensus.setChecked(False)
    dialog.accept()
    assert w.state.prefs.display_count == 7 and w.state.prefs.sample_consensus is False
    w.close()
    again = make_window()
    assert again.state.prefs.display_count == 7 and again.state.prefs.sampler_steps == DEFAULT_STEPS + 1
    assert again.state.prefs.sample_consensus is False
    dialog = again.open_settings()
    assert dialog.display_count.value() == 7 and not dialog.consensus.isChecked()
    dialog.user_body.setChecked(True)
    dialog.body_path.setText("/nonexistent/smpl.npz")
    dialog.accept()  # refused: the dialog says why and stays open
    assert dialog.isVisible() and "no such body model" in dialog.error_label.text()
    dialog.reject()


def test_ground_truth_errors_show_in_the_table(qtbot, make_window, tmp_path, body):
    from app.candidate_set import BodyDecoder
    from app_helpers import make_project

    label = BodyDecoder(body).rest_pose_params()[0]
    w = make_window(sample_count=8)
    assert w.open_project(make_project(tmp_path / "gt", gt_label=label))
    _sample(qtbot, w)
    c = w.state.candidates
    for name in ("mpjpe", "pa_mpjpe", "pve"):
        assert np.isfinite(c.errors[name]).all() and (c.errors[name] > 0).all()
    assert not w.candidate_table.view.isColumnHidden(3)
    # Sorting by MPJPE puts the smallest error first.
    w.candidate_table.view.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    assert w.candidate_table.candidate_at_row(0) == int(np.argmin(c.errors["mpjpe"]))


def test_box_drag_asks_for_a_person_in_the_box(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    view = w.image_pane.view
    w.image_pane.box_button.setChecked(True)
    start = view.mapFromScene(QPointF(150, 60))
    end = view.mapFromScene(QPointF(400, 480))
    with qtbot.waitSignal(view.boxDrawn) as blocker:
        qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
        move = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(end), QPointF(view.viewport().mapToGlobal(end)),
                           Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view.viewport(), move)
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    x0, y0, x1, y1 = blocker.args
    assert abs(x0 - 150) < 3 and abs(y0 - 60) < 3 and abs(x1 - 400) < 3 and abs(y1 - 480) < 3
    assert not w.image_pane.box_button.isChecked()
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=30_000)
    # The detector ran inside the box and the person it found is now the current one.
    assert w.last_error is None and len(w.state.persons) == 2
    assert w.state.person.id == w.state.persons[1].id
    assert len(w.image_pane.view.box_items) == 2


def test_a_single_photo_opens_in_a_scratch_project(qtbot, make_window, tmp_path):
    from app_helpers import make_images

    photo = make_images(tmp_path / "in")[0]
    w = make_window()
    assert w.open_photo(photo)
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=30_000)
    scratch = w.scratch_dir
    assert scratch is not None and w.state.image is not None
    assert len(w.state.persons) == 1 and w.state.person.keypoints[:, 2].max() > 0.5  # detected
    assert w.image_pane.view.keypoint_group is not None
    w.flush_views()
    assert w.view3d.count_label.text() == "average body"
    assert "scratch" in w.windowTitle()
    w.close_project()
    assert not scratch.exists() and w.stack.currentWidget() is w.start_page


def test_a_photo_without_a_person_still_opens(qtbot, make_window, tmp_path):
    from app_helpers import make_images

    scene = make_images(tmp_path / "in")[1]  # a gradient and a rectangle: nobody there
    w = make_window()
    assert w.open_photo(scene)
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=30_000)
    assert w.state.image is not None and w.state.persons == []
    assert "drag a box" in w.status_message.text() and w.last_error is None
    assert w.actions["pick"].isEnabled()


def test_dropping_a_project_file_opens_it_and_a_folder_imports_it(qtbot, make_window, project_path):
    w = make_window()
    w.handle_dropped([str(project_path)])
    assert w.state.project is not None and w.state.project.path == project_path
    w.handle_dropped([str(project_path.with_name("photos"))])  # imported in the background
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=30_000)
    assert "2 already there" in w.status_message.text() and len(w.state.images) == 2


def test_cancel_stops_sampling_without_storing_a_run(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    w.actions["sample"].trigger()
    assert w.task_status.isVisible() and w.task_status.cancel_button.isEnabled()
    qtbot.keyClick(w.image_pane.view, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=SAMPLE_TIMEOUT_MS)
    assert not w.task_status.isVisible() and w.last_error is None
    assert w.state.candidates is None
    from engine import store

    assert not store.sample_runs_of_person(w.state.project, w.state.person.id)


def test_demo_project_is_built_in_the_background_and_opened(qtbot, make_window, tmp_path, monkeypatch):
    import engine.demo
    from app_helpers import make_project

    made = []

    def quick_demo(folder, progress, should_cancel):
        made.append(folder)
        return make_project(tmp_path / "demo")

    monkeypatch.setattr(engine.demo, "create_demo_project", quick_demo)
    w = make_window()
    w.start_page.demo_button.click()
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=30_000)
    assert made and w.state.project is not None and w.state.project.path.parent == tmp_path / "demo"
    assert w.stack.currentWidget() is w.splitter
