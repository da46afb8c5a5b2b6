"""The DPO form counts the project's pairs of each kind, makes the choice of pairs explicit,
fits the batch size to them and offers no Start that cannot run."""

import pytest
from test_app_curation import add_candidates

from engine import store


@pytest.fixture
def pairs_window(make_window, project_path):
    """Six scored candidates of the astronaut; four scorer pairs, one of them accepted by
    hand, and one pair made by hand."""
    person, ids = add_candidates(project_path, "astronaut.png", [0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    with store.Project.open(project_path) as project:
        store.add_auto_pairs(project, [store.PairProposal(person, ids[a], ids[b], 0.5)
                                       for a, b in ((0, 5), (0, 4), (1, 5), (1, 4))])
        first = store.list_pairs(project)[0]
        store.decide_pair(project, first.id, "accepted", "me")
        store.add_manual_pair(project, person, ids[2], ids[3], "me")
    return project_path


def test_dpo_form_counts_pairs_and_fits_the_batch(qtbot, make_window, pairs_window):
    w = make_window()
    assert w.open_project(pairs_window)
    panel = w.extra["jobs"]
    dialog = panel.new_job("dpo")
    helper = dialog.dpo_pairs
    assert helper.counts == {"reviewed": 2, "reviewed+proposed": 5, "hand-made": 1}
    selection = dialog.editors["pair_selection"][1]
    batch = dialog.editors["batch_size"][1]
    texts = [selection.itemText(k) for k in range(selection.count())]
    assert texts == ["reviewed (2 pairs)", "reviewed + scorer-proposed (5 pairs)", "hand-made only (1 pair)"]
    # What a person reviewed is chosen when there is any; the batch fits the two pairs.
    assert dialog.params()["pair_selection"] == "reviewed" and batch.value() == 2 and batch.maximum() == 2
    assert "2 reviewed pairs (1 of them made by hand) and 3 scorer proposals nobody reviewed" in helper.note.text()
    assert "lowered from 16 to 2" in helper.note.text() and dialog.start_button.isEnabled()
    selection.setCurrentIndex(selection.findData("reviewed+proposed"))
    assert batch.value() == 5 and dialog.params()["batch_size"] == 5
    selection.setCurrentIndex(selection.findData("hand-made"))
    assert batch.value() == 1
    # The user's own smaller batch is kept.
    selection.setCurrentIndex(selection.findData("reviewed+proposed"))
    batch.setValue(3)
    selection.setCurrentIndex(selection.findData("reviewed"))
    selection.setCurrentIndex(selection.findData("reviewed+proposed"))
    assert batch.value() == 3
    dialog.reject()


def test_dpo_form_offers_no_start_without_pairs(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    dialog = w.extra["jobs"].new_job("dpo")
    assert dialog.dpo_pairs.counts == {"reviewed": 0, "reviewed+proposed": 0, "hand-made": 0}
    assert not dialog.start_button.isEnabled() and "Nothing to train on" in dialog.dpo_pairs.note.text()
    # Another kind's form can start again.
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("sample"))
    assert dialog.start_button.isEnabled()
    dialog.reject()
