"""The Pairs panel: decide scorer pairs with the keyboard, flip one, undo and redo through the store."""

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from engine import store


def candidate_params(n: int, seed: int = 0) -> np.ndarray:
    """(n, D) decodable parameters: an upright body facing the camera, joints jittered."""
    import torch

    from engine.models.param_layout import ParamLayout

    pose = torch.zeros(n, 72)
    pose[:, 0] = np.pi
    pose[:, 3:] = torch.from_numpy(np.random.default_rng(seed).normal(0, 0.2, (n, 69)).astype(np.float32))
    cam = torch.tensor([[0.95, 0.0, 0.0]]).repeat(n, 1)
    return ParamLayout().from_axis_angle(pose, torch.zeros(n, 10), cam).numpy()


def add_candidates(project_path, image_name: str, scores) -> tuple[int, list[int]]:
    """Store a scored run of len(scores) candidates for the person of an image;
    returns (person id, candidate ids)."""
    with store.Project.open(project_path) as project:
        image = next(r for r in store.list_images(project) if r.path == image_name)
        person = store.persons_of_image(project, image.id)[0]
        run = store.add_sample_run(project, person.id, candidate_params(len(scores)), seed=0, steps=4,
                                   scores=np.asarray(scores, float))
        return person.id, [c.id for c in store.candidates_of_person(project, person.id, run)]


@pytest.fixture
def curation_window(make_window, project_path):
    person_id, ids = add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    w = make_window()
    assert w.open_project(project_path)
    w.docks["curation"].raise_()
    panel = w.extra["curation"]
    panel.setFocus()
    return w, panel, person_id, ids


def press(qtbot, panel, key, modifier=Qt.KeyboardModifier.NoModifier):
    panel.setFocus()
    qtbot.keyClick(panel, key, modifier)


def test_decide_flip_undo_redo_with_keys(qtbot, curation_window):
    w, panel, person_id, ids = curation_window
    qtbot.waitUntil(lambda: panel.visibility.on_screen)
    project = w.state.project
    auto = store.list_pairs(project, person_id=person_id, source="auto")
    # Proposed as the pairs job would: top of the ranking against the bottom, nearest the extremes first.
    assert [(p.winner_id, p.loser_id) for p in auto] == [(ids[0], ids[5]), (ids[0], ids[4]), (ids[1], ids[5]),
                                                         (ids[0], ids[3])]
    assert "0 done · 4 left" in panel.counters.text()

    # Pair 1 (odd id): the scorer's winner is on the right. B confirms it.
    item = panel.current
    assert (item.a, item.b) == (ids[5], ids[0])
    # The gap is shown on the scale proposals are made on: log-odds, logit(0.9) - logit(0.1).
    assert "prefers <b>B</b>: 0.100 vs 0.900 (log-odds margin 4.39)" in panel.opinion.text()
    press(qtbot, panel, Qt.Key.Key_B)
    assert store.list_pairs(project, person_id=person_id, source="auto")[0].status == "accepted"
    assert "1 done · 3 left" in panel.counters.text() and "100% of 1" in panel.counters.text()
    # Pair 2 (even id): the winner is on the left; B flips it: rejected + the reverse by hand.
    assert panel.current.pair.id == auto[1].id and (panel.current.a, panel.current.b) == (ids[0], ids[4])
    press(qtbot, panel, Qt.Key.Key_B)
    assert store.list_pairs(project, person_id=person_id, source="auto")[1].status == "rejected"
    manual = store.list_pairs(project, person_id=person_id, source="manual")
    assert [(p.winner_id, p.loser_id, p.status) for p in manual] == [(ids[4], ids[0], "accepted")]
    assert "2 done · 2 left" in panel.counters.text() and "50% of 2" in panel.counters.text()

    # One Ctrl+Z undoes the whole flip, and shows that pair again.
    press(qtbot, panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert store.list_pairs(project, person_id=person_id, source="auto")[1].status == "proposed"
    assert store.list_pairs(project, person_id=person_id, source="manual") == []
    assert panel.current.pair.id == auto[1].id
    assert "1 done · 3 left" in panel.counters.text() and "100% of 1" in panel.counters.text()
    # Ctrl+Shift+Z redoes it; X marks the last pair both bad.
    press(qtbot, panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert store.list_pairs(project, person_id=person_id, source="auto")[1].status == "rejected"
    assert len(store.list_pairs(project, person_id=person_id, source="manual")) == 1
    assert panel.current.pair.id == auto[2].id
    press(qtbot, panel, Qt.Key.Key_X)
    statuses = [p.status for p in store.list_pairs(project, person_id=person_id, source="auto")]
    assert statuses == ["accepted", "rejected", "both_bad", "proposed"]
    assert "3 done · 1 left" in panel.counters.text()
    # The window's own B shortcut (pick a person with a box) did not fire while the panel had focus.
    assert not w.image_pane.box_button.isChecked()
    # Every decision is in the store's history, newest first.
    history = store.history(project)
    assert [a.table_name for a in history] == ["pairs"] * 4


def test_least_sure_first_across_the_project_and_free_pick(qtbot, make_window, project_path):
    astro, a_ids = add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    synth, s_ids = add_candidates(project_path, "synthetic.png", [0.6, 0.55, 0.5, 0.45])
    with store.Project.open(project_path) as project:
        store.add_auto_pairs(project, [
            store.PairProposal(astro, a_ids[0], a_ids[5], 0.8),
            store.PairProposal(synth, s_ids[0], s_ids[3], 0.15),
            store.PairProposal(synth, s_ids[1], s_ids[2], 0.05),
            store.PairProposal(astro, a_ids[0], a_ids[1], 0.1),
        ])
    w = make_window()
    assert w.open_project(project_path)
    assert w.state.image.path == "astronaut.png"
    w.docks["curation"].raise_()
    panel = w.extra["curation"]
    qtbot.waitUntil(lambda: panel.visibility.on_screen)
    panel.set_mode("uncertain", "project")
    # Smallest gap first, whoever's it is: the window follows to that person's image. The gap
    # is in log-odds: 0.9 vs 0.8 (0.81) is surer than 0.6 vs 0.45 (0.61), though closer in score.
    assert [{it.a, it.b} for it in panel.items] == [{s_ids[1], s_ids[2]}, {s_ids[0], s_ids[3]},
                                                    {a_ids[0], a_ids[1]}, {a_ids[0], a_ids[5]}]
    assert w.state.image.path == "synthetic.png" and w.state.person.id == synth
    assert set(w.state.selected) == {1, 2}  # the pair is selected in the main views too
    press(qtbot, panel, Qt.Key.Key_S)
    assert store.list_pairs(w.state.project, person_id=synth)[1].status == "skipped"
    assert {panel.current.a, panel.current.b} == {s_ids[0], s_ids[3]}
    assert "1 done · 3 left" in panel.counters.text()

    # Free pick: two rows of the candidate table become A and B; A wins, then B on second thought.
    panel.set_mode("free")
    w.candidate_table.select_rows([1, 3])
    first, second = (w.candidate_table.candidate_at_row(r) for r in (1, 3))
    a, b = int(w.state.candidates.ids[first]), int(w.state.candidates.ids[second])
    assert (panel.current.a, panel.current.b) == (a, b)
    press(qtbot, panel, Qt.Key.Key_A)
    manual = store.list_pairs(w.state.project, person_id=synth, source="manual")
    assert [(p.winner_id, p.loser_id, p.status) for p in manual] == [(a, b, "accepted")]
    press(qtbot, panel, Qt.Key.Key_B)
    manual = store.list_pairs(w.state.project, person_id=synth, source="manual")
    assert [(p.winner_id, p.loser_id, p.status) for p in manual] == [(a, b, "rejected"), (b, a, "accepted")]
    assert "2 pairs picked by hand" in panel.counters.text()
