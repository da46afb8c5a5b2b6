"""The Pairs panel as a place to judge in: A/B views that fill the dock and zoom together,
a framed 3D pair, the pair's colours in the main view, a project queue without a pairs job,
and N going on to the next person."""

from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QWheelEvent
from PyQt6.QtWidgets import QApplication
from test_app_curation import add_candidates

from app.widgets.ab_compare import A_COLOR, B_COLOR
from engine import store


def wheel(view, steps: int = 2) -> None:
    """``steps`` wheel notches (zoom in) at the middle of a graphics view."""
    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(centre, QPointF(view.viewport().mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def same_place(compare) -> bool:
    """Whether A and B show the same point of the photo in their middle (to a screen pixel
    or so: the two views can differ by a pixel in width)."""
    (ax, ay), (bx, by) = compare.view_a.center(), compare.view_b.center()
    return max(abs(ax - bx), abs(ay - by)) * compare.view_a.zoom() < 2


def open_pairs(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    w.docks["curation"].raise_()
    panel = w.extra["curation"]
    qtbot.waitUntil(lambda: panel.visibility.on_screen)
    panel.setFocus()
    return w, panel


def test_pair_views_fill_the_dock_zoom_together_and_colour_the_main_view(qtbot, make_window, project_path):
    add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    w, panel = open_pairs(qtbot, make_window, project_path)
    compare = panel.compare
    # The dock grows to give the photos height, and each photo view takes a third of the width.
    qtbot.waitUntil(lambda: w.docks["curation"].height() >= 0.4 * w.height())
    qtbot.wait(50)
    for view in (compare.view_a, compare.view_b):
        assert view.width() >= 0.3 * compare.width() and view.height() >= 180
    # Each starts zoomed to the person: the box (with its margin) fills the view's height.
    box_h = 480 * 1.3
    assert abs(compare.view_a.zoom() * box_h / compare.view_a.viewport().height() - 1) < 0.03
    assert compare.view_a.zoom() == compare.view_b.zoom()

    # The wheel over A zooms both alike; a pan in B moves A too.
    before = compare.view_a.zoom()
    wheel(compare.view_a, 8)
    assert compare.view_a.zoom() > 3 * before
    assert compare.view_b.zoom() == compare.view_a.zoom()
    assert same_place(compare)
    x_before = compare.view_a.center()[0]
    bar = compare.view_b.horizontalScrollBar()
    bar.setValue(bar.value() + 40)
    assert compare.view_a.center()[0] > x_before + 10 and same_place(compare)

    # The main image view draws the pair in A blue and B orange, and score colours again
    # once the panel is out of sight.
    item, cset = panel.current, w.state.candidates
    index = {int(c): k for k, c in enumerate(cset.ids)}
    colors = w.state.colors()
    assert tuple(colors[index[item.a]]) == A_COLOR and tuple(colors[index[item.b]]) == B_COLOR
    assert set(w.image_pane.view.candidate_items) == {index[item.a], index[item.b]}
    w.docks["candidates"].raise_()
    qtbot.waitUntil(lambda: not panel.visibility.on_screen)
    assert w.state.pair_colors == {}
    assert tuple(w.state.colors()[index[item.a]]) != A_COLOR

    # The 3D pair holds both bodies whole, side by side or as the photo's camera sees them.
    w.docks["curation"].raise_()
    qtbot.waitUntil(lambda: panel.visibility.on_screen)
    view3d = compare.view3d
    view3d.plotter.render()
    assert view3d.shown() == [True, True] and view3d.framed()
    view3d.aligned_check.setChecked(True)
    assert "photo's camera" in view3d.title.text()
    assert view3d.plotter.camera.position == (0.0, 0.0, 0.0)
    view3d.aligned_check.setChecked(False)
    view3d.plotter.render()
    assert view3d.framed()


def test_whole_project_queue_proposes_pairs_without_a_pairs_job(qtbot, make_window, project_path):
    w, panel = open_pairs(qtbot, make_window, project_path)
    panel.set_mode("proposed", "project")
    assert panel.items == [] and "no person has scored candidates" in panel.opinion.text()
    # What to run, one click away: a sample job's form.
    assert panel.sample_button.isVisible()
    dialog = panel.open_sample_job()
    assert dialog.kind == "sample"
    dialog.reject()

    astro, _ = add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    synth, _ = add_candidates(project_path, "synthetic.png", [0.6, 0.55, 0.5, 0.1])
    panel.set_mode("uncertain", "project")
    per_person = {pid: len(store.list_pairs(w.state.project, person_id=pid, source="auto")) for pid in (astro, synth)}
    assert per_person[astro] > 0 and per_person[synth] > 0
    assert len(panel.items) == sum(per_person.values())
    assert f"Proposed {len(panel.items)} pairs for 2 people" in panel.opinion.text()
    assert not panel.sample_button.isVisible()


def test_next_at_the_end_of_a_persons_queue_goes_to_the_next_person(qtbot, make_window, project_path):
    astro, _ = add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    synth, _ = add_candidates(project_path, "synthetic.png", [0.6, 0.55, 0.5, 0.1])
    w, panel = open_pairs(qtbot, make_window, project_path)
    assert w.state.person.id == astro and len(panel.items) == 4
    # A skipped pair counts as done.
    qtbot.keyClick(panel, Qt.Key.Key_S)
    assert "1 done · 3 left" in panel.counters.text()
    for _ in range(len(panel.items) - panel.index - 1):
        qtbot.keyClick(panel, Qt.Key.Key_N)
    assert panel.index == len(panel.items) - 1 and w.state.person.id == astro
    qtbot.keyClick(panel, Qt.Key.Key_N)
    assert w.state.person.id == synth and w.state.image.path == "synthetic.png"
    assert panel.items and all(it.person_id == synth for it in panel.items)
    for _ in range(len(panel.items) - panel.index - 1):
        qtbot.keyClick(panel, Qt.Key.Key_N)
    qtbot.keyClick(panel, Qt.Key.Key_N)
    assert w.state.person.id == synth
    assert "last person with candidates" in panel.opinion.text()


def test_decided_pairs_browser_filters_and_jumps(qtbot, make_window, project_path):
    from app.widgets.decision_history import current_user

    astro, a_ids = add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    synth, _ = add_candidates(project_path, "synthetic.png", [0.6, 0.55, 0.5, 0.1])
    w, panel = open_pairs(qtbot, make_window, project_path)
    first = panel.current.pair
    qtbot.keyClick(panel, Qt.Key.Key_X)       # both bad
    qtbot.keyClick(panel, Qt.Key.Key_S)       # skipped
    flipped = panel.current.pair
    qtbot.keyClick(panel, Qt.Key.Key_A if flipped.winner_id == panel.current.b else Qt.Key.Key_B)  # flip
    panel.set_mode("free")
    w.candidate_table.select_rows([2, 4])
    qtbot.keyClick(panel, Qt.Key.Key_A)        # a pair made by hand
    manual = [p for p in store.list_pairs(w.state.project, source="manual")]
    assert len(manual) == 2  # the flip's reverse and the free pick

    browser = panel.open_browser()
    qtbot.addWidget(browser)
    assert browser.count_label.text() == "5 of 5 decided pairs"
    row = browser.visible_pairs().index(first.id)
    assert [browser.table.item(row, c).text() for c in (1, 3, 4, 5)] == [
        "astronaut.png", "both bad", "scorer-proposed", current_user() or "unknown"]
    assert browser.table.item(row, 6).text().startswith(str(store.list_pairs(w.state.project)[0].decided_at.year))
    browser.decision_combo.setCurrentIndex(browser.decision_combo.findData("rejected"))
    browser.decision_combo.activated.emit(browser.decision_combo.currentIndex())
    assert browser.visible_pairs() == [flipped.id]
    browser.decision_combo.setCurrentIndex(0)
    browser.source_combo.setCurrentIndex(browser.source_combo.findData("manual"))
    browser.source_combo.activated.emit(browser.source_combo.currentIndex())
    assert sorted(browser.visible_pairs()) == sorted(p.id for p in manual)
    browser.image_filter.setText("synthetic")
    assert browser.visible_pairs() == []
    browser.image_filter.setText("")
    browser.source_combo.setCurrentIndex(0)
    browser.source_combo.activated.emit(0)

    # Jump: go to the other photo first, then ask for the astronaut's first pair.
    w.state.open_image(next(r.id for r in w.state.images if r.path == "synthetic.png"))
    browser.table.selectRow(browser.visible_pairs().index(first.id))
    browser.choose()
    assert w.state.person.id == astro and panel.current.pair.id == first.id
    assert panel.scope == "project" and "both_bad" in panel.opinion.text()
    # A hand-made pair opens as a free pick of its two candidates.
    ok = panel.show_pair(manual[-1].id)
    assert ok and panel.mode == "free"
