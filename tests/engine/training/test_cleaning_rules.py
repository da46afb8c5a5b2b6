"""Data cleaning: the keep rules, overrides, detection counts, and cleaned files written in
their input's format (or not at all, on bad input)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from engine.data.load import load_dataset, npz_format, read_annotation_file, save_annotation_file
from engine.errors import DataError
from engine.models.scorer import HMRScorer
from engine.training.cleaning import (
    CleaningRule, apply_overrides, clean_file, decide, detection_stats, keep_mask, score_labels,
)

from test_pairs_build import tiny_data, tiny_models




@pytest.fixture(scope="module")
def setup(tmp_path_factory, body):
    folder = tmp_path_factory.mktemp("clean")
    torch.set_num_threads(1)
    _, scorer = tiny_models(folder, body)
    return folder, scorer, tiny_data(folder / "data", body, n=6, unlabelled=1)


def test_a_keep_fraction_keeps_the_best_scores():
    scores = np.array([0.2, 0.9, 0.5, 0.7, 0.1])
    assert keep_mask(scores, CleaningRule(keep_fraction=0.6)).tolist() == [False, True, True, True, False]
    assert keep_mask(scores, CleaningRule(keep_fraction=1.0)).all()
    # At least one person stays; ties keep the earlier person.
    assert keep_mask(scores, CleaningRule(keep_fraction=0.01)).tolist() == [False, True, False, False, False]
    assert keep_mask(np.array([0.5, 0.5, 0.5]), CleaningRule(keep_fraction=0.34)).tolist() == [True, False, False]


def test_a_threshold_keeps_every_score_above_it():
    scores = np.array([0.2, 0.9, 0.5, 0.7, 0.1])
    assert keep_mask(scores, CleaningRule(threshold=0.5)).tolist() == [False, True, True, True, False]


@pytest.mark.parametrize("kw", [dict(keep_fraction=0.0), dict(keep_fraction=1.2), dict(keep_fraction=-0.5),
                                dict(threshold=float("nan")), dict(), dict(keep_fraction=0.5, threshold=0.5)])
def test_bad_rules_are_refused(kw):
    with pytest.raises(DataError):
        CleaningRule(**kw)


def test_overrides_win_and_unscored_people_stay():
    result = decide(np.array([0.9, np.nan, 0.1, 0.5]), CleaningRule(keep_fraction=0.34), {0: False, 2: True})
    assert result.auto_keep.tolist() == [True, True, False, False]
    assert result.keep.tolist() == [False, True, True, False]
    assert result.summary() == {"rule": "keep the top 34%", "people": 4, "kept": 2, "dropped": 2,
                                "overridden": 2, "unscored": 1}
    with pytest.raises(DataError, match="override for person 7"):
        apply_overrides(result.auto_keep, {7: True})


def test_detection_counts_the_corrupted_labels_caught():
    keep = np.array([True, False, False, True, False])
    bad = np.array([False, True, False, True, True])
    assert detection_stats(keep, bad) == {"dropped": 3, "corrupted": 3, "caught": 2,
                                          "precision": pytest.approx(2 / 3), "recall": pytest.approx(2 / 3)}


def test_scoring_a_label_scores_it_as_the_one_candidate(setup, body):
    from engine.data.crops import CropTransform
    from engine.models.candidates import decode_candidates
    from engine.models.param_layout import ParamLayout
    from engine.data.dataset import PersonCropDataset

    _, scorer_path, data = setup
    scorer = HMRScorer.load(scorer_path, body=body)
    records = load_dataset(data).records
    scores = score_labels(records, scorer, body, batch_size=4)
    assert scores.shape == (7,) and np.isnan(scores[6]) and np.isfinite(scores[:6]).all()
    item = PersonCropDataset(records[:1], 64)[0]
    params = ParamLayout().from_axis_angle(item["pose"][None], item["betas"][None], item["camera"][None])[:, None]
    crop = CropTransform.for_box(records[0].box, 64)
    cands = decode_candidates(params, ParamLayout(), body, torch.tensor(crop.center[None], dtype=torch.float32),
                              torch.tensor([crop.size]))
    alone = scorer.score_candidates(item["image"][None], item["keypoints"][None], cands)
    assert float(alone[0, 0]) == pytest.approx(float(scores[0]), abs=1e-5)


@pytest.mark.parametrize("fmt", ["spin", "prohmr"])
def test_the_cleaned_file_keeps_its_format_and_rows(setup, tmp_path, fmt):
    folder, scorer, data = setup
    source = tmp_path / f"pseudo.{fmt}.npz"
    save_annotation_file(source, read_annotation_file(data).records, fmt)
    out, calls = tmp_path / "clean" / "kept.npz", tmp_path / "calls.csv"
    result = clean_file(source, out, CleaningRule(keep_fraction=0.5), scorer=scorer, overrides={5: True},
                        decisions_csv=calls)
    assert npz_format(out) == fmt
    before, after = read_annotation_file(source).records, read_annotation_file(out).records
    kept = [r for r, k in zip(before, result.keep) if k]
    # Three of six labelled kept by the rule, the override adds one if it was dropped; the unlabelled one stays.
    assert len(after) == result.kept == 3 + (not result.auto_keep[5]) + 1
    assert [a.image_path for a in after] == [b.image_path for b in kept]
    assert all(np.array_equal(a.pose, b.pose) for a, b in zip(after, kept) if b.pose is not None)
    rows = list(csv.DictReader(calls.open()))
    assert len(rows) == 7 and rows[-1]["score"] == "" and {r["index"] for r in rows if r["override"]} == {"5"}
    assert [float(r["score"]) for r in rows[:6]] == sorted((float(r["score"]) for r in rows[:6]), reverse=True)


def test_bad_cleaning_inputs_write_nothing(setup, tmp_path, body):
    from test_scorer_train import write_dataset

    folder, scorer, data = setup
    unlabelled = write_dataset(tmp_path / "u", body, 0, unlabelled=2)
    out = tmp_path / "out.npz"
    cases = [
        ((unlabelled, out, CleaningRule(keep_fraction=0.5)), dict(scorer=scorer), "no person has a 3D label"),
        ((data, data, CleaningRule(keep_fraction=0.5)), dict(scorer=scorer), "must not replace its input"),
        ((tmp_path / "nope.npz", out, CleaningRule(keep_fraction=0.5)), dict(scorer=scorer), "no such file"),
        ((data, out, CleaningRule(keep_fraction=0.5)), dict(scorer=scorer, overrides={99: True}), "override"),
    ]
    for args, kw, message in cases:
        with pytest.raises(DataError, match=message):
            clean_file(*args, **kw)
        assert not out.exists()
