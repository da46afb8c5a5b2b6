"""Preference pairs: the selection rules, manual decisions over automatic ones, building
pairs from images with tiny models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.body.model import BodyModel
from engine.data.load import load_dataset
from engine.errors import DataError
from engine.models.checkpoint import body_signature
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.training.pairs import PairConfig, PreferencePair, build_pairs, merge_pairs, select_pairs

D = 157




def tiny_models(folder: Path, body: BodyModel) -> tuple[Path, Path]:
    """Untrained tiny base (crop 64, width 32, 1 layer) and scorer checkpoints."""
    from test_scorer_train import tiny_base

    base = tiny_base(folder / "base", body)
    torch.manual_seed(1)
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4))
    scorer.body_signature = body_signature(body)
    scorer.save(folder / "scorer")
    return base, folder / "scorer"


def tiny_data(folder: Path, body: BodyModel, n: int = 4, unlabelled: int = 0) -> Path:
    """Stick figures in named poses with labels (and unlabelled ones): a SPIN npz."""
    from test_scorer_train import write_dataset

    return write_dataset(folder, body, n, unlabelled=unlabelled)


def make_pair(w: float, lo: float, person: str = "p", **kw) -> PreferencePair:
    """A pair whose winner/loser vectors are filled with w / lo (their keys follow)."""
    return PreferencePair(image="/x.jpg", crop_center=[50.0, 50.0], crop_size=100.0, keypoints=np.zeros((17, 3)),
                          winner=np.full(D, w), loser=np.full(D, lo), person=person, **kw)


CONFIG = PairConfig(num_candidates=8, pairs_per_image=3, top_k=2, bottom_k=2, min_margin=0.4)


def test_winners_come_from_the_top_and_losers_from_the_bottom():
    scores = np.array([0.5, 0.9, 0.1, 0.6, 0.8, 0.05, 0.4, 0.3])
    # Ranked: 1 (0.9), 4 (0.8), ..., 2 (0.1), 5 (0.05): best vs worst first.
    assert select_pairs(scores, CONFIG) == [(1, 5), (1, 2), (4, 5)]


def test_the_margin_and_the_count_limit_the_pairs():
    scores = np.array([0.50, 0.52, 0.45, 0.47, 0.30, 0.49, 0.48, 0.46])
    # Top two 0.52 (1), 0.50 (0); bottom two 0.30 (4), 0.45 (2): only pairs with 4 clear
    # 0.4 in log-odds (0.52 vs 0.45 is 0.28).
    assert select_pairs(scores, CONFIG) == [(1, 4), (0, 4)]
    flat = np.full(8, 0.5)
    assert select_pairs(flat, CONFIG) == []
    one = PairConfig(num_candidates=8, pairs_per_image=1, top_k=2, bottom_k=2, min_margin=0.0)
    assert select_pairs(np.arange(8.0), one) == [(7, 0)]


def test_the_margin_is_in_log_odds_so_confident_images_still_give_pairs():
    # A confident image: every score near 1, yet 0.999 is far more sure than 0.984.
    sure = np.array([0.999, 0.998, 0.995, 0.99, 0.988, 0.986, 0.985, 0.984])
    assert select_pairs(sure, CONFIG) == [(0, 7), (0, 6), (1, 7)]
    # Mid-range scores 0.02 apart are a near tie (0.08 in log-odds), and give none.
    close = np.array([0.50, 0.51, 0.49, 0.50, 0.52, 0.50, 0.51, 0.50])
    assert select_pairs(close, PairConfig(num_candidates=8, top_k=2, bottom_k=2)) == []
    saturated = np.array([1.0, 1.0, 0.0, 0.5, 0.5, 0.0, 0.5, 0.5], np.float32)
    assert select_pairs(saturated, CONFIG) == [(0, 5), (0, 2), (1, 5)]


@pytest.mark.parametrize("kw", [dict(top_k=5, bottom_k=5, num_candidates=8), dict(min_margin=-0.1),
                                dict(min_margin=float("nan")), dict(min_margin=25.0),
                                dict(pairs_per_image=0), dict(num_candidates=1, top_k=1, bottom_k=1)])
def test_bad_pair_settings_are_refused(kw):
    with pytest.raises(DataError):
        PairConfig(**kw)


def test_a_manual_decision_overrules_the_automatic_pair():
    auto = make_pair(1.0, 2.0, winner_score=0.9, loser_score=0.2)
    other = make_pair(3.0, 4.0)
    # Alone, proposals train.
    assert merge_pairs([auto, other]) == [auto, other]
    # Rejected, skipped or both bad: the pair is gone.
    for status in ("rejected", "skipped", "both_bad"):
        decided = make_pair(1.0, 2.0, source="manual", status=status)
        assert merge_pairs([auto, other, decided]) == [other]
    # Flipped by hand: the manual orientation is the one that trains.
    flipped = make_pair(2.0, 1.0, source="manual", status="accepted")
    merged = merge_pairs([auto, flipped, other])
    assert len(merged) == 2 and merged[0] is flipped and float(merged[0].winner[0]) == 2.0
    # The last manual call wins, and the automatic pair's own status set by hand counts.
    assert merge_pairs([auto, flipped, make_pair(1.0, 2.0, source="manual", status="rejected")]) == []
    assert merge_pairs([replace(auto, status="rejected")]) == []
    # Another person's identical candidates are a different pair.
    assert len(merge_pairs([auto, make_pair(1.0, 2.0, person="q", source="manual", status="rejected")])) == 1


def test_flipping_swaps_every_side_field():
    p = make_pair(1.0, 2.0, winner_score=0.8, loser_score=0.3, winner_index=4, loser_index=9)
    f = p.flipped()
    assert (f.winner_score, f.loser_score, f.winner_index, f.loser_index) == (0.3, 0.8, 9, 4)
    assert f.winner_key == p.loser_key and f.margin == pytest.approx(-0.5)


def test_pairs_from_images_keep_their_provenance(tmp_path, body):
    base_path, scorer_path = tiny_models(tmp_path, body)
    data = tiny_data(tmp_path / "data", body, n=0, unlabelled=3)
    records = load_dataset(data).records
    base = DiffusionHMR.load(base_path, body=body)
    scorer = HMRScorer.load(scorer_path, body=body)
    config = PairConfig(num_candidates=8, pairs_per_image=2, top_k=2, bottom_k=2, min_margin=0.0, seed=5)
    events = []
    pairs = build_pairs(records, base, scorer, body, config, str(base_path), str(scorer_path), events.append)
    assert len(pairs) == 6 and events[-1].fraction == 1.0
    first = pairs[0]
    assert first.source == "auto" and first.status == "proposed"
    assert first.base_checkpoint == str(base_path) and first.scorer_checkpoint == str(scorer_path)
    assert first.image == records[0].image_path and first.winner.shape == (D,)
    np.testing.assert_array_equal(first.keypoints, records[0].keypoints)
    assert all(p.winner_score - p.loser_score >= 0 for p in pairs)
    # The winner and loser are those hypotheses of the person's own sample (seed + index).
    image = pairs[0].crop(64)
    from engine.data.crops import crop_image, transform_keypoints
    from engine.data.dataset import normalise_image
    from engine.image_io import load_image

    x = normalise_image(crop_image(load_image(first.image), image))[None]
    kp = torch.from_numpy(transform_keypoints(first.keypoints, image))[None]
    again = base.sample(x, kp, 8, seed=5)[0].numpy()
    np.testing.assert_allclose(again[first.winner_index], first.winner, atol=1e-6)
    np.testing.assert_allclose(again[first.loser_index], first.loser, atol=1e-6)


def test_a_scorer_for_another_layout_is_refused(tmp_path, body):
    from engine.models.param_layout import ParamLayout

    base_path, _ = tiny_models(tmp_path, body)
    base = DiffusionHMR.load(base_path, body=body)
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4), ParamLayout(num_betas=16))
    with pytest.raises(DataError, match="the scorer reads 163 parameters"):
        build_pairs(load_dataset(tiny_data(tmp_path / "d", body, 1)).records, base, scorer, body)
