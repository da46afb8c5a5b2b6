import pytest

from engine import store as st
from engine.errors import StoreError


@pytest.fixture
def pairs(project, filled):
    p0 = filled.person_ids[0]
    c = st.candidates_of_person(project, p0)
    st.add_auto_pairs(project, [st.PairProposal(p0, c[0].id, c[i].id) for i in (1, 2, 3)])
    return [p.id for p in st.list_pairs(project)]


def statuses(project):
    return [p.status for p in st.list_pairs(project)]


def test_decisions_are_recorded_with_who_and_when(project, pairs):
    action = st.decide_pair(project, pairs[0], "accepted", who="ana")
    pair = st.list_pairs(project)[0]
    assert (pair.status, pair.who) == ("accepted", "ana")
    assert pair.decided_at is not None
    assert action.old_value == {"status": "proposed", "who": None, "decided_at": None}
    assert action.new_value["status"] == "accepted"
    with pytest.raises(StoreError, match="unknown pair status 'great'"):
        st.decide_pair(project, pairs[0], "great")


def test_undo_and_redo_walk_the_history(project, pairs):
    st.decide_pair(project, pairs[0], "accepted")
    st.decide_pair(project, pairs[1], "rejected")
    st.decide_pair(project, pairs[0], "both_bad")
    assert statuses(project) == ["both_bad", "rejected", "proposed"]
    assert st.undo(project).new_value["status"] == "both_bad"
    assert statuses(project) == ["accepted", "rejected", "proposed"]
    st.undo(project)
    st.undo(project)
    assert statuses(project) == ["proposed", "proposed", "proposed"]
    assert st.list_pairs(project)[0].who is None and st.list_pairs(project)[0].decided_at is None
    assert st.undo(project) is None
    st.redo(project)
    st.redo(project)
    assert statuses(project) == ["accepted", "rejected", "proposed"]
    st.redo(project)
    assert st.redo(project) is None
    assert statuses(project) == ["both_bad", "rejected", "proposed"]


def test_a_new_decision_drops_what_could_be_redone(project, pairs):
    st.decide_pair(project, pairs[0], "accepted")
    st.decide_pair(project, pairs[1], "accepted")
    st.undo(project)
    st.decide_pair(project, pairs[2], "skipped")
    assert st.redo(project) is None
    assert statuses(project) == ["accepted", "proposed", "skipped"]
    assert [a.row_id for a in st.history(project)] == [pairs[2], pairs[0]]


def test_undo_and_redo_survive_closing_the_project(tmp_path, project, pairs):
    st.decide_pair(project, pairs[0], "accepted", who="ana")
    st.decide_pair(project, pairs[1], "rejected", who="ana")
    st.undo(project)
    project.close()
    with st.Project.open(project.path) as again:
        assert statuses(again) == ["accepted", "proposed", "proposed"]
        assert st.redo(again).row_id == pairs[1]
        assert statuses(again) == ["accepted", "rejected", "proposed"]
        st.undo(again)
        st.undo(again)
    with st.Project.open(project.path) as third:
        assert statuses(third) == ["proposed", "proposed", "proposed"]
        assert [a.undone for a in st.history(third)] == [True, True]
        st.redo(third)
        assert statuses(third) == ["accepted", "proposed", "proposed"]


def test_manual_pairs_can_be_undone_and_redone(project, filled, pairs):
    p0 = filled.person_ids[0]
    c = st.candidates_of_person(project, p0)
    new = st.add_manual_pair(project, p0, c[2].id, c[3].id, who="ben")
    made = st.list_pairs(project, source="manual")
    assert [(p.id, p.status, p.who) for p in made] == [(new, "accepted", "ben")]
    st.undo(project)
    assert st.list_pairs(project, source="manual") == []
    st.redo(project)
    assert st.list_pairs(project, source="manual") == made
    with pytest.raises(StoreError, match="other way round"):
        st.add_manual_pair(project, p0, c[1].id, c[0].id)
    assert st.add_manual_pair(project, p0, c[0].id, c[1].id) == pairs[0]
    assert st.list_pairs(project)[0].status == "accepted"


def test_cleaning_overrides_are_undoable(project, filled):
    scores = {pid: s for pid, s in zip(filled.person_ids, (0.9, 0.2, 0.5), strict=True)}
    run = st.add_cleaning_run(project, filled.dataset_id, scores, keep_fraction=2 / 3)
    assert st.kept_person_ids(project, run) == sorted([filled.person_ids[0], filled.person_ids[2]])
    dropped = next(d for d in st.cleaning_decisions(project, run) if not d.keep)
    st.set_cleaning_override(project, dropped.id, True, who="cy")
    assert len(st.kept_person_ids(project, run)) == 3
    st.undo(project)
    assert len(st.kept_person_ids(project, run)) == 2
    st.redo(project)
    decision = next(d for d in st.cleaning_decisions(project, run) if d.id == dropped.id)
    assert (decision.override, decision.auto_keep, decision.keep, decision.who) == (
        True,
        False,
        True,
        "cy",
    )
