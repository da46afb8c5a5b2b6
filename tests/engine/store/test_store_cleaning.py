import pytest

from engine import store as st
from engine.errors import StoreError
from engine.store.repo_cleaning import auto_keep


def test_keep_fraction_keeps_the_top_scores_with_stable_ties():
    scores = {1: 0.5, 2: 0.9, 3: 0.5, 4: 0.1, 5: 0.7}
    assert auto_keep(scores, 0.6, None) == {2: True, 5: True, 1: True, 3: False, 4: False}
    assert sum(auto_keep(scores, 0.8, None).values()) == 4
    assert not any(auto_keep(scores, 0.0, None).values())


def test_threshold_keeps_scores_at_or_above_it():
    assert auto_keep({1: 0.5, 2: 0.49, 3: 0.8}, None, 0.5) == {1: True, 2: False, 3: True}


def test_a_rule_needs_exactly_one_criterion():
    with pytest.raises(StoreError, match="exactly one"):
        auto_keep({1: 0.5}, 0.5, 0.5)
    with pytest.raises(StoreError, match="exactly one"):
        auto_keep({1: 0.5}, None, None)
    with pytest.raises(StoreError, match=r"in \[0, 1\]"):
        auto_keep({1: 0.5}, 1.5, None)


def test_cleaning_run_records_decisions_by_score(project, filled):
    scores = dict(zip(filled.person_ids, (0.3, 0.8, 0.6), strict=True))
    run = st.add_cleaning_run(project, filled.dataset_id, scores, threshold=0.5)
    assert st.get_cleaning_run(project, run).threshold == 0.5
    decisions = st.cleaning_decisions(project, run)
    assert [d.score for d in decisions] == [0.8, 0.6, 0.3]
    assert [d.auto_keep for d in decisions] == [True, True, False]
    again = st.add_cleaning_run(project, filled.dataset_id, scores, keep_fraction=0.34)
    assert [r.id for r in st.list_cleaning_runs(project)] == [again, run]  # newest first
    assert [r.id for r in st.list_cleaning_runs(project, filled.dataset_id)] == [again, run]
    other = st.add_dataset(project, "other", "folder")
    assert st.list_cleaning_runs(project, other) == []


def test_persons_of_another_dataset_are_refused(project, filled):
    other = st.add_dataset(project, "other", "folder")
    with pytest.raises(StoreError, match="not in dataset"):
        st.add_cleaning_run(project, other, {filled.person_ids[0]: 0.5}, keep_fraction=0.5)
