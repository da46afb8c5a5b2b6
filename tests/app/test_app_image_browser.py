"""The image browser: statuses, scorer numbers, filtering and sorting."""

import numpy as np
from PyQt6.QtCore import Qt

from app.panels.image_browser import COLUMNS, ImageBrowser
from app.state import AppState
from engine import store


def _project_with_runs(tmp_path):
    """Three images: a wide score spread, a narrow one, and one never sampled."""
    from app_helpers import make_project

    path = make_project(tmp_path)
    project = store.Project.open(path)
    ds = store.list_datasets(project)[0].id
    extra = store.add_image(project, ds, "astronaut.png.copy.png")
    kp = np.zeros((17, 3), np.float32)
    store.add_person(project, extra, (0, 0, 10, 10), kp)
    images = store.list_images(project)
    persons = [store.persons_of_image(project, im.id)[0].id for im in images]
    params = np.zeros((3, 157), np.float32)
    store.add_sample_run(project, persons[0], params, seed=0, steps=4, scores=[0.9, 0.1, 0.5])  # spread .8, margin .4
    store.add_sample_run(project, persons[1], params, seed=0, steps=4, scores=[0.52, 0.5, 0.49])  # spread .03, margin .02
    return project, images


def test_stats_give_spread_and_margin_per_image(tmp_path):
    project, images = _project_with_runs(tmp_path)
    stats = store.image_score_stats(project)
    assert set(stats) == {images[0].id, images[1].id}
    assert abs(stats[images[0].id].spread - 0.8) < 1e-6 and abs(stats[images[0].id].margin - 0.4) < 1e-6
    assert abs(stats[images[1].id].margin - 0.02) < 1e-6 and stats[images[1].id].count == 3
    project.close()


def test_filter_by_status_and_sort_by_uncertainty(qtbot, tmp_path):
    project, images = _project_with_runs(tmp_path)
    state = AppState()
    browser = ImageBrowser(state)
    qtbot.addWidget(browser)
    state.set_project(project)
    assert browser.model.rowCount() == 3
    status = COLUMNS.index("Status")
    assert [browser.model.data(browser.model.index(r, status)) for r in range(3)] == ["sampled", "sampled", "unsampled"]

    browser.sort_by("Margin")  # smallest margin first: the scorer's most uncertain image
    assert browser.visible_order()[:2] == [images[1].id, images[0].id]
    browser.sort_by("Spread", descending=True)
    assert browser.visible_order()[0] == images[0].id

    browser.status_combo.setCurrentIndex(browser.status_combo.findData("unsampled"))
    assert browser.visible_order() == [images[2].id]
    browser.status_combo.setCurrentIndex(0)
    browser.search.setText("synth")
    assert browser.visible_order() == [images[1].id]
    assert "1 of 3" in browser.count_label.text()

    # Choosing a row opens that image; opening an image elsewhere selects its row.
    browser.search.clear()
    browser.view.selectRow(browser.visible_order().index(images[1].id))
    assert state.image.id == images[1].id
    state.open_image(images[0].id)
    current = browser.view.currentIndex()
    assert browser.proxy.data(current.siblingAtColumn(0), Qt.ItemDataRole.DisplayRole) == "astronaut.png"
    assert COLUMNS[0] == "Image"
    state.set_project(None)


def test_two_datasets_with_the_same_names_are_told_apart_and_end_goes_to_the_last_image(qtbot, make_window,
                                                                                        project_path):
    from app_helpers import PERSON_BOXES, keypoints_in_box

    with store.Project.open(project_path) as project:
        again = store.add_dataset(project, "photos, second take", "images", str(project_path.parent / "photos"))
        image = store.add_image(project, again, "astronaut.png")
        store.add_person(project, image, PERSON_BOXES["astronaut.png"], keypoints_in_box(PERSON_BOXES["astronaut.png"]))
    w = make_window()
    assert w.open_project(project_path)
    browser = w.browser
    dataset = COLUMNS.index("Dataset")
    assert not browser.view.isColumnHidden(dataset)
    names = [(browser.proxy.index(r, 0).data(), browser.proxy.index(r, dataset).data()) for r in range(3)]
    assert names == [("astronaut.png", "photos"), ("synthetic.png", "photos"), ("astronaut.png", "photos, second take")]
    # At the window's own first size every column up to Margin is on screen in the dock.
    w.resize(1400, 900)
    qtbot.waitUntil(lambda: browser.width() >= 450)
    header, margin = browser.view.horizontalHeader(), COLUMNS.index("Margin")
    assert header.sectionViewportPosition(margin) + header.sectionSize(margin) <= browser.view.viewport().width()

    browser.view.setFocus()
    qtbot.keyClick(browser.view, Qt.Key.Key_End)
    assert w.state.image.id == image and browser.view.horizontalScrollBar().value() == 0
    qtbot.keyClick(browser.view, Qt.Key.Key_Home)
    assert w.state.image.id == browser.visible_order()[0] != image


def test_one_dataset_needs_no_dataset_column(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    assert w.browser.view.isColumnHidden(COLUMNS.index("Dataset"))
