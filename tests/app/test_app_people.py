"""Several people in one photo: each one's best candidate at once in its own colour (photo
and 3D), a click on a person selects them, and Sample All People samples everyone."""

import numpy as np
from app_helpers import keypoints_in_box, make_images
from PyQt6.QtCore import QPointF, Qt
from test_app_curation import candidate_params

from app.people import person_color
from engine import store

BOXES = ((20.0, 40.0, 170.0, 500.0), (180.0, 40.0, 330.0, 500.0), (340.0, 40.0, 490.0, 500.0))


def group_project(tmp_path, sampled: int = 3):
    """The astronaut photo with three people side by side; the first ``sampled`` have candidates."""
    make_images(tmp_path / "photos")
    path = tmp_path / "group.adhmr"
    with store.Project.create(path) as project:
        ds = store.add_dataset(project, "photos", "images", str(tmp_path / "photos"))
        image = store.add_image(project, ds, "astronaut.png")
        for k, box in enumerate(BOXES):
            person = store.add_person(project, image, box, keypoints_in_box(box))
            if k < sampled:
                store.add_sample_run(project, person, candidate_params(4, seed=k), seed=0, steps=1,
                                     scores=np.array([0.2, 0.9, 0.5, 0.1]))
    return path


def test_all_people_drawn_in_their_colours_and_a_click_selects_one(qtbot, make_window, tmp_path):
    w = make_window()
    assert w.open_project(group_project(tmp_path))
    s, pane = w.state, w.image_pane
    assert [pane.person_combo.itemText(k) for k in range(3)] == ["Person 1", "Person 2", "Person 3"]
    icon = pane.person_combo.itemIcon(1).pixmap(12, 12).toImage().pixelColor(6, 6)
    assert max(abs(a - b) for a, b in zip((icon.red(), icon.green(), icon.blue()), person_color(1))) <= 6
    assert pane.view.other_items == []
    pane.all_people_check.setChecked(True)
    w.flush_views()
    # The two other people's best candidates, under the current person's own.
    assert len(pane.view.other_items) == 2 and w.view3d.others_shown() == 2
    colours = [tuple(round(c * 255) for c in slot.full_actor.GetProperty().GetColor())
               for slot in w.view3d.other_slots[:2]]
    assert colours == [person_color(1), person_color(2)]

    # A click inside the third person's box makes them current; the others follow.
    view = pane.view
    at = view.mapFromScene(QPointF(415, 300))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert s.person.id == s.persons[2].id
    w.flush_views()
    assert len(pane.view.other_items) == 2 and w.view3d.others_shown() == 2
    pane.all_people_check.setChecked(False)
    w.flush_views()
    assert pane.view.other_items == [] and w.view3d.others_shown() == 0


def test_sample_all_people(qtbot, make_window, tmp_path):
    w = make_window(sample_count=4)
    assert w.open_project(group_project(tmp_path, sampled=0))
    assert w.actions["sample_all"].isEnabled()
    w.actions["sample_all"].trigger()
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=120_000)
    assert w.last_error is None, w.last_error
    for person in w.state.persons:
        assert len(store.candidates_of_person(w.state.project, person.id)) == 4
        # Started from each person's fit (the default), all fitted in one batch first.
        assert [r.fit_start for r in store.sample_runs_of_person(w.state.project, person.id)] == [0.05]
    # Then everyone is shown (the untrained tiny model's meshes may fall outside the photo: counted in 3D).
    w.flush_views()
    assert w.image_pane.all_people_check.isChecked() and w.view3d.others_shown() == 2
    assert "Sampled 3 people (4 candidates each)" in w.status_message.text()
