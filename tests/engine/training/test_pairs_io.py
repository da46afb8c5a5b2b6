"""Pair files (JSONL, npz) round trip and read without this code; a project's pairs,
proposed from its scored candidates and decided by hand, come back as a training set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import store as st
from engine.errors import DataError
from engine.training.pair_io import load_pairs, save_pairs
from engine.training.pairs import PairConfig, PreferencePair
from engine.projects.pairs import project_pairs, propose_project_pairs

D = 157


def _pairs(folder, n=3) -> list[PreferencePair]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        kp = np.concatenate([rng.uniform(0, 90, (17, 2)), rng.uniform(0, 1, (17, 1))], 1)
        manual = i == 2
        out.append(PreferencePair(
            image=str(folder / f"img{i}.jpg"), crop_center=[48.0 + i, 40.0], crop_size=96.0, keypoints=kp,
            winner=rng.normal(size=D), loser=rng.normal(size=D),
            winner_score=None if manual else 0.9, loser_score=None if manual else 0.2 + i / 10,
            source="manual" if manual else "auto", status="accepted" if manual else "proposed",
            person=f"person{i}", winner_index=None if manual else 3, loser_index=None if manual else 7,
            base_checkpoint=None if manual else "/ck/base.safetensors", box=None if manual else [10, 5, 80, 90],
            pair_id=None if manual else 11 + i))
    return out


def _same(a: PreferencePair, b: PreferencePair) -> None:
    for name in ("image", "crop_size", "winner_score", "loser_score", "source", "status", "person", "winner_key",
                 "loser_key", "winner_index", "loser_index", "base_checkpoint", "scorer_checkpoint", "pair_id"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("crop_center", "keypoints", "winner", "loser"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.box is None) == (b.box is None)


@pytest.mark.parametrize("suffix", [".jsonl", ".npz"])
def test_pairs_round_trip(tmp_path, suffix):
    pairs = _pairs(tmp_path)
    path = tmp_path / f"pairs{suffix}"
    assert save_pairs(path, pairs) == 3
    back = load_pairs(path)
    assert len(back) == 3
    for a, b in zip(pairs, back):
        _same(a, b)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_jsonl_is_plain_json_another_trainer_can_read(tmp_path):
    pairs = _pairs(tmp_path)
    save_pairs(tmp_path / "pairs.jsonl", pairs)
    lines = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    first = lines[0]
    assert len(first["winner"]) == len(first["loser"]) == first["dim"] == D
    assert np.asarray(first["keypoints"]).shape == (17, 3)
    assert first["image"] == pairs[0].image and first["crop_center"] == [48.0, 40.0] and first["crop_size"] == 96.0
    assert first["margin"] == pytest.approx(0.7) and first["source"] == "auto"
    assert lines[2]["source"] == "manual" and lines[2]["winner_score"] is None
    with np.load(tmp_path / "pairs.npz" if save_pairs(tmp_path / "pairs.npz", pairs) else None) as z:
        assert z["winner"].shape == (3, D) and z["keypoints"].shape == (3, 17, 3)
        assert list(z["source"]) == ["auto", "auto", "manual"] and np.isnan(z["winner_score"][2])


def test_relative_image_paths_are_taken_from_the_file(tmp_path):
    line = json.dumps({"image": "imgs/a.jpg", "crop_center": [1, 2], "crop_size": 5, "keypoints": [[0, 0, 0]] * 17,
                       "winner": [0.0] * D, "loser": [1.0] * D})
    (tmp_path / "hand.jsonl").write_text(line + "\n\n")
    (pair,) = load_pairs(tmp_path / "hand.jsonl")
    assert pair.image == str(tmp_path / "imgs" / "a.jpg") and pair.source == "auto" and pair.status == "proposed"


@pytest.mark.parametrize("text, message", [
    ("{not json", r"bad.jsonl:1: not JSON"),
    ('{"image": "a.jpg"}', r"bad.jsonl:1: missing crop_center"),
    ('{"image": "a.jpg", "crop_center": [1, 2], "crop_size": 5, "keypoints": [[0, 0, 0]], "winner": [1], '
     '"loser": [1]}', r"bad.jsonl:1: .*keypoints: expected shape \(17, 3\)"),
    ('{"image": "a.jpg", "crop_center": [1, 2], "crop_size": 5, "keypoints": [[0, 0, 0]], "winner": [1, 2], '
     '"loser": [1], "source": "robot"}', r"bad.jsonl:1: "),
])
def test_bad_pair_lines_name_the_line(tmp_path, text, message):
    (tmp_path / "bad.jsonl").write_text(text + "\n")
    with pytest.raises(DataError, match=message):
        load_pairs(tmp_path / "bad.jsonl")


def test_mixed_layouts_and_unknown_suffixes_are_refused(tmp_path):
    a, b = _pairs(tmp_path, 2)
    short = PreferencePair(image=a.image, crop_center=a.crop_center, crop_size=a.crop_size, keypoints=a.keypoints,
                           winner=a.winner[:100], loser=a.loser[:100])
    with pytest.raises(DataError, match="mix parameter vectors of lengths"):
        save_pairs(tmp_path / "x.npz", [a, short])
    with pytest.raises(DataError, match="not '.csv'"):
        save_pairs(tmp_path / "x.csv", [a])
    with pytest.raises(DataError, match="no such pairs file"):
        load_pairs(tmp_path / "missing.jsonl")


def test_project_pairs_respect_decisions_made_by_hand(tmp_path):
    project = st.Project.create(tmp_path / "p.adhmr")
    rng = np.random.default_rng(1)
    ds = st.add_dataset(project, "wild", "spin", str(tmp_path))
    persons, runs = [], []
    for i in range(2):
        image = st.add_image(project, ds, f"img{i}.jpg", width=100, height=100)
        kp = np.concatenate([rng.uniform(0, 90, (17, 2)), np.ones((17, 1))], 1)
        person = st.add_person(project, image, (10.0, 5.0, 80.0, 90.0), kp)
        params = rng.normal(size=(6, D)).astype(np.float32)
        runs.append(st.add_sample_run(project, person, params, seed=0, steps=4,
                                      scores=[0.9, 0.1, 0.5, 0.8, 0.2, 0.4]))
        persons.append(person)
    config = PairConfig(num_candidates=6, pairs_per_image=2, top_k=2, bottom_k=2, min_margin=0.3)
    out = propose_project_pairs(project, "wild", config)
    assert out["added"] == 4 and out["unscored"] == 0
    assert propose_project_pairs(project, "wild", config)["added"] == 0
    auto = st.list_pairs(project)
    cands = {c.index: c.id for c in st.candidates_of_person(project, persons[0])}
    # Person 0: candidate 0 (0.9) beats 1 (0.1), then 0 beats 4 (0.2).
    assert [(p.winner_id, p.loser_id) for p in auto[:2]] == [(cands[0], cands[1]), (cands[0], cands[4])]
    # By hand: reject the first pair, flip the second (reject, then the reverse as a manual pair).
    st.decide_pair(project, auto[0].id, "rejected")
    st.decide_pair(project, auto[1].id, "rejected")
    st.add_manual_pair(project, persons[0], cands[4], cands[0])
    st.decide_pair(project, auto[2].id, "both_bad")
    pairs = project_pairs(project, "wild")
    # The flipped pair takes the place of the automatic one it overrules.
    assert [(p.source, p.winner_key, p.loser_key) for p in pairs] == [
        ("manual", f"candidate:{cands[4]}", f"candidate:{cands[0]}"),
        ("auto", f"candidate:{auto[3].winner_id}", f"candidate:{auto[3].loser_id}"),
    ]
    assert pairs[1].image == str(tmp_path / "img1.jpg") and pairs[1].winner_score == pytest.approx(0.9)
    assert pairs[1].crop_size == pytest.approx(85 * 1.2)
    project.close()
