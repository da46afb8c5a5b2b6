"""Training a detector-conditioned, cross-attending scorer from a dataset's detector cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from engine.cli import main as cli_main
from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import DatasetDetections, cache_path, detections_for, save_detections
from engine.data.load import load_dataset
from engine.detect.keypoints import BLAZEPOSE_TO_COCO17
from engine.errors import DataError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import Normalizer, ParamLayout
from engine.models.scorer import HMRScorer
from engine.training.candidate_noise import RestRootJoint
from engine.training.scorer_data import training_candidates
from engine.training.scorer_train import ScorerTrainConfig, train_scorer
from test_scorer_train import TINY, write_dataset

MISSED = 1
"""The record the fake detector misses."""


def fake_detector_cache(data: Path, body, seed: int = 0) -> Path:
    """The cache `adhmr detect-dataset` would write, from the labels plus noise: world
    landmarks at the true COCO joints (hip-centred), keypoints near the labelled ones;
    record MISSED not found."""
    records = load_dataset(data).records
    rng = np.random.default_rng(seed)
    d = DatasetDetections.empty(len(records))
    for i, r in enumerate(records):
        if i == MISSED or r.pose is None:
            continue
        out = body(torch.tensor(r.pose)[None], torch.tensor(r.betas)[None], rotation_format="axis_angle")
        kp3d = out.keypoints[0].numpy()
        kp3d = kp3d - kp3d[[11, 12]].mean(0)
        d.world_landmarks[i, list(BLAZEPOSE_TO_COCO17)] = kp3d + rng.normal(0, 0.02, kp3d.shape)
        d.landmark_visibility[i] = 0.9
        d.landmark_presence[i] = 0.95
        d.keypoints[i] = r.keypoints + np.concatenate([rng.normal(0, 1.5, (17, 2)), np.zeros((17, 1))], 1)
        d.found[i] = True
    return save_detections(cache_path(data), d, records)


def detector_base(path: Path, body) -> Path:
    torch.manual_seed(0)
    D = ParamLayout().dim
    model = DiffusionHMR(dict(crop_size=64, width=32, layers=1, heads=2, encoder_channels=[8, 16, 32, 32],
                              detector_inputs=True),
                         Normalizer(np.zeros(D, np.float32), np.full(D, 0.1, np.float32)), body)
    model.save(path)
    return path


def _config(tmp_path, data, **kw):
    base = dict(data=str(data), out=str(tmp_path / "run" / "scorer"), steps=3, batch_size=2,
                candidates_per_image=4, val_every=3, save_every=3, val_images=4, **TINY)
    base.update(kw)
    return ScorerTrainConfig(**base)


def test_detector_scorer_trains_from_the_cache_saves_reloads_and_scores(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 8)
    val = write_dataset(tmp_path / "val", body, 3, seed=1)
    fake_detector_cache(data, body)
    fake_detector_cache(val, body, seed=1)
    base = detector_base(tmp_path / "base", body)
    config = _config(tmp_path, data, val=str(val), base=str(base), base_candidates=2,
                     detector_inputs=True, cross_attention=True)
    events = []
    weights = train_scorer(config, progress=events.append)
    saved = json.loads(weights.with_suffix(".json").read_text())
    assert saved["architecture"]["detector_inputs"] and saved["architecture"]["cross_attention"]
    assert saved["training"]["detector_inputs"] and set(saved["validation"]) == {"MPJPE", "PA-MPJPE", "PVE"}
    assert all(np.isfinite(e.metrics["loss"]) for e in events)

    scorer = HMRScorer.load(weights, body=body)
    assert scorer.detector_inputs and scorer.config.cross_attention
    records = load_dataset(val).records
    dataset = PersonCropDataset(records, 64, root_joint=RestRootJoint(body), detections=detections_for(val, records))
    batch = default_collate([dataset[i] for i in range(len(dataset))])
    cands = training_candidates(batch, body, ParamLayout(), config, None, torch.Generator().manual_seed(0))
    # The scorer reads the detector's keypoints, not the labelled ones, and each candidate's 3D joints.
    assert torch.equal(cands.keypoints, batch["cond_keypoints"]) and not torch.equal(cands.keypoints, batch["keypoints"])
    assert cands.points3d.shape == (3, 4, 41, 3) and torch.equal(cands.landmarks, batch["landmarks"])
    with torch.no_grad():
        logits = scorer.logits(**cands.scorer_inputs())
        blind = scorer.logits(**dict(cands.scorer_inputs(), landmarks=torch.zeros_like(cands.landmarks)))
    assert torch.isfinite(logits).all() and logits.std() > 0
    assert not torch.allclose(logits, blind)


def test_a_plain_scorer_with_a_detector_base_feeds_the_base_the_detections(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 6)
    fake_detector_cache(data, body)
    base = detector_base(tmp_path / "base", body)
    weights = train_scorer(_config(tmp_path, data, base=str(base), base_candidates=2, steps=2, val_every=2))
    assert not HMRScorer.load(weights, body=body).detector_inputs


def test_detector_inputs_without_a_cache_name_the_command_that_makes_it(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 6)
    with pytest.raises(DataError, match="adhmr detect-dataset"):
        train_scorer(_config(tmp_path, data, detector_inputs=True))


def test_a_deeper_cross_attention_stage_first_ranks_as_the_first(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 6)
    fake_detector_cache(data, body)
    first = train_scorer(_config(tmp_path / "a", data, detector_inputs=True, cross_attention=True))
    grown = train_scorer(_config(tmp_path / "b", data, detector_inputs=True, cross_attention=True, init=str(first),
                                 lr=0.0, layers=2))
    small, deep = HMRScorer.load(first, body=body), HMRScorer.load(grown, body=body)
    assert len(deep.blocks) == 2
    g = torch.Generator().manual_seed(0)
    args = (torch.randn(2, 3, 64, 64, generator=g), torch.rand(2, 17, 3, generator=g),
            torch.rand(2, 5, 41, 2, generator=g) * 2 - 1, torch.randn(2, 5, 41, generator=g) * 0.2)
    extra = dict(landmarks=torch.rand(2, 33, 6, generator=g), points3d=torch.randn(2, 5, 41, 3, generator=g) * 0.3)
    with torch.no_grad():
        torch.testing.assert_close(deep.logits(*args, **extra), small.logits(*args, **extra))


def test_cli_trains_a_detector_cross_attention_scorer(tmp_path, body, capsys):
    data = write_dataset(tmp_path / "data", body, 6)
    fake_detector_cache(data, body)
    out = tmp_path / "cli" / "scorer"
    rc = cli_main(["train-scorer", "--data", str(data), "--out", str(out), "--steps", "2", "--batch-size", "2",
                   "--candidates-per-image", "4", "--width", "32", "--layers", "1", "--heads", "2",
                   "--crop-size", "64", "--no-augment", "--device", "cpu", "--val-every", "2",
                   "--detector-inputs", "--cross-attention"])
    assert rc == 0
    assert f"wrote {out}.safetensors" in capsys.readouterr().out
    assert HMRScorer.load(out, body=body).config.cross_attention
