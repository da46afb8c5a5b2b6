import csv
import json

import numpy as np
import pytest

from engine import store as st
from engine.errors import ShapeError


@pytest.fixture
def reviewed(project, filled):
    """Three pairs on the first person: accepted, rejected, still proposed."""
    p0 = filled.person_ids[0]
    c = st.candidates_of_person(project, p0)
    st.add_auto_pairs(
        project, [st.PairProposal(p0, c[0].id, c[i].id, margin=0.1 * i) for i in (1, 2, 3)]
    )
    ids = [p.id for p in st.list_pairs(project)]
    st.decide_pair(project, ids[0], "accepted")
    st.decide_pair(project, ids[1], "rejected")
    return c, ids


def test_jsonl_has_one_training_pair_per_line(project, filled, reviewed, tmp_path):
    cands, ids = reviewed
    out = tmp_path / "pairs.jsonl"
    assert st.export_pairs_jsonl(project, out) == 2
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["pair_id"] for r in lines] == [ids[0], ids[2]]
    first = lines[0]
    assert first["image"] == "/data/demo/img_000.jpg"
    assert first["box"] == [10.0, 20.0, 300.0, 460.0]
    assert first["status"] == "accepted" and first["source"] == "auto"
    np.testing.assert_array_equal(np.float32(first["winner"]), cands[0].params)
    np.testing.assert_array_equal(np.float32(first["loser"]), cands[1].params)
    assert first["winner_score"] == pytest.approx(cands[0].score)
    assert lines[1]["margin"] == pytest.approx(0.3)
    assert st.export_pairs_jsonl(project, out, statuses=["rejected"]) == 1
    assert json.loads(out.read_text())["pair_id"] == ids[1]


def test_npz_holds_the_same_pairs_as_arrays(project, reviewed, tmp_path):
    cands, ids = reviewed
    out = tmp_path / "pairs.npz"
    assert st.export_pairs_npz(project, out) == 2
    with np.load(out) as z:
        assert z["winner"].shape == (2, 157) and z["winner"].dtype == np.float32
        np.testing.assert_array_equal(z["loser"][1], cands[3].params)
        assert z["pair_id"].tolist() == [ids[0], ids[2]]
        assert z["status"].tolist() == ["accepted", "proposed"]
        assert z["box"].shape == (2, 4)


def test_npz_refuses_mixed_parameter_layouts(project, filled, reviewed, tmp_path):
    p1 = filled.person_ids[1]
    run = st.add_sample_run(project, p1, np.zeros((2, 10)), seed=0, steps=4)
    c = st.candidates_of_person(project, p1, run_id=run)
    st.add_auto_pairs(project, [st.PairProposal(p1, c[0].id, c[1].id)])
    with pytest.raises(ShapeError, match=r"lengths \[10, 157\]"):
        st.export_pairs_npz(project, tmp_path / "mixed.npz")
    assert not (tmp_path / "mixed.npz").exists()


def test_cleaning_csv_lists_every_decision_with_overrides(project, filled, tmp_path):
    scores = dict(zip(filled.person_ids, (0.3, 0.8, 0.6), strict=True))
    run = st.add_cleaning_run(project, filled.dataset_id, scores, threshold=0.5)
    low = st.cleaning_decisions(project, run)[-1]
    st.set_cleaning_override(project, low.id, True, who="cy")
    out = tmp_path / "cleaning.csv"
    assert st.export_cleaning_csv(project, run, out) == 3
    rows = list(csv.DictReader(out.open()))
    assert [float(r["score"]) for r in rows] == [0.8, 0.6, 0.3]
    assert [(r["auto_keep"], r["override"], r["keep"]) for r in rows] == [
        ("1", "", "1"),
        ("1", "", "1"),
        ("0", "1", "1"),
    ]
    assert rows[2]["who"] == "cy" and rows[2]["image"] == "/data/demo/img_000.jpg"
