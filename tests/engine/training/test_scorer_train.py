"""Scorer training: a tiny scorer learns to rank, runs resume exactly, the CLI works."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from engine.body.model import BodyModel
from engine.body.named_poses import NAMED_POSES
from engine.cli import main as cli_main
from engine.data.dataset import PersonCropDataset
from engine.data.load import load_dataset, save_annotation_file
from engine.data.records import PersonSample
from engine.errors import CheckpointError, DataError, JobCancelled
from engine.metrics import ranking_correlation
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import Normalizer, ParamLayout
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.training.candidate_noise import RestRootJoint
from engine.training.scorer_data import ScorerBatches, ValidationSet, training_candidates
from engine.training.scorer_eval import validation_logits
from engine.training.scorer_train import ScorerTrainConfig, ranknet_loss, state_path, train_scorer

LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16), (5, 6), (11, 12), (5, 11), (6, 12))
TINY = dict(width=32, layers=1, heads=2, crop_size=64, warmup_steps=2, augment=False)




def write_dataset(folder: Path, body: BodyModel, n: int, seed: int = 0, unlabelled: int = 0, kind: str = "gt") -> Path:
    """n labelled people in named poses drawn as stick figures, plus unlabelled ones."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = sorted(NAMED_POSES)
    box = np.array([16.0, 8.0, 80.0, 88.0], np.float32)
    centre, side = np.array([48.0, 48.0]), 80.0
    records = []
    for i in range(n + unlabelled):
        pose = NAMED_POSES[names[i % len(names)]].copy()
        pose[0] = [np.pi, 0.0, 0.0]
        pose = (pose + rng.normal(0, 0.05, pose.shape)).reshape(72).astype(np.float32)
        betas = rng.normal(0, 0.5, 10).astype(np.float32)
        cam = np.array([0.9, rng.normal(0, 0.03), 0.1 + rng.normal(0, 0.03)], np.float32)
        out = body(torch.from_numpy(pose)[None], torch.from_numpy(betas)[None], torch.from_numpy(cam)[None],
                   rotation_format="axis_angle")
        kp_px = centre + out.keypoints_2d[0].numpy() * side / 2
        image = rng.integers(0, 60, (96, 96, 3), dtype=np.uint8)
        for a, b in LIMBS:
            cv2.line(image, tuple(int(v) for v in kp_px[a]), tuple(int(v) for v in kp_px[b]), (230, 200, 40), 3)
        path = folder / f"person{i}.png"
        cv2.imwrite(str(path), image[:, :, ::-1])
        keypoints = np.concatenate([kp_px, np.ones((17, 1))], axis=1)
        labelled = i < n
        records.append(PersonSample(str(path), box, keypoints, pose if labelled else None,
                                    betas if labelled else None, None, cam if labelled else None,
                                    kind if labelled else None))
    save_annotation_file(folder / "data.npz", records, "spin")
    return folder / "data.npz"


def tiny_base(path: Path, body: BodyModel) -> Path:
    torch.manual_seed(0)
    D = ParamLayout().dim
    model = DiffusionHMR(dict(crop_size=64, width=32, layers=1, heads=2, encoder_channels=[8, 16, 32, 32]),
                         Normalizer(np.zeros(D, np.float32), np.full(D, 0.1, np.float32)), body)
    model.save(path)
    return path


def _config(tmp_path, data, **kw):
    base = dict(data=str(data), out=str(tmp_path / "run" / "scorer"), steps=4, batch_size=2,
                candidates_per_image=4, val_every=2, save_every=2, val_images=4, **TINY)
    base.update(kw)
    return ScorerTrainConfig(**base)


def test_tiny_scorer_learns_to_rank_unseen_candidates(tmp_path, body):
    data = write_dataset(tmp_path, body, 4)
    records = load_dataset(data).records
    dataset = PersonCropDataset(records, 64, root_joint=RestRootJoint(body))
    batch = default_collate([dataset[i] for i in range(len(dataset))])
    config = _config(tmp_path, data, candidates_per_image=8)
    # Four candidate sets to train on, a fifth (other noise draws) to test on.
    pool = [training_candidates(batch, body, ParamLayout(), config, None, torch.Generator().manual_seed(s))
            for s in range(5)]
    held = pool.pop()
    torch.manual_seed(0)
    scorer = HMRScorer(ScorerConfig(64, 32, 1, 2, grid=4))
    opt = torch.optim.AdamW(scorer.parameters(), lr=3e-3)

    def srcc(c):
        with torch.no_grad():
            return ranking_correlation(scorer.logits(c.images, c.keypoints, c.crop, c.depth).numpy(),
                                       c.errors["MPJPE"].numpy()).srcc

    before = srcc(held)
    losses = []
    for step in range(60):
        c = pool[step % len(pool)]
        loss, _ = ranknet_loss(scorer.logits(c.images, c.keypoints, c.crop, c.depth), c.errors)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert np.mean(losses[-12:]) < 0.8 * np.mean(losses[:12])
    after = srcc(held)
    assert after > 0.6 and after > before + 0.25, (before, after)


def _weights(path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def test_train_writes_a_checkpoint_with_validation_and_resumes_exactly(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 8, unlabelled=2)
    events = []
    straight = train_scorer(_config(tmp_path / "a", data), progress=events.append)
    assert len(events) == 4 and events[-1].fraction == 1.0
    assert "val_srcc_PA-MPJPE" in events[1].metrics
    config = json.loads(straight.with_suffix(".json").read_text())
    assert config["kind"] == "scorer" and config["training"]["steps_done"] == 4
    assert set(config["validation"]) == {"MPJPE", "PA-MPJPE", "PVE"}
    # The saved scorer is centred on its validation candidates: half score above 0.5.
    scorer = HMRScorer.load(straight, body=body)
    run = _config(tmp_path / "a", data)
    val = ValidationSet.build(run, body, scorer.config.crop_size, None, ScorerBatches(run, body, 64).held_out)
    scores = torch.sigmoid(torch.from_numpy(validation_logits(scorer, val)) - scorer.score_offset)
    assert config["calibration"]["logit_offset"] == scorer.score_offset != 0.0
    assert float(np.median(scores.numpy())) == pytest.approx(0.5, abs=1e-3)

    calls = []
    with pytest.raises(JobCancelled):
        train_scorer(_config(tmp_path / "b", data), should_cancel=lambda: calls.append(1) or len(calls) > 2)
    assert state_path(tmp_path / "b" / "run" / "scorer").is_file()
    resumed = train_scorer(_config(tmp_path / "b", data, resume=True))
    a, b = _weights(straight), _weights(resumed)
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_a_second_stage_starts_from_the_given_scorer(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 4)
    first = train_scorer(_config(tmp_path / "a", data))
    # With a zero learning rate the second stage must hand back exactly its initial weights.
    second = train_scorer(_config(tmp_path / "b", data, init=str(first), lr=0.0))
    a, b = _weights(first), _weights(second)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads(second.with_suffix(".json").read_text())["training"]["init"] == str(first)
    # The weight average (what gets saved) must also start from the given scorer.
    averaged = train_scorer(_config(tmp_path / "d", data, init=str(first), lr=0.0, ema_decay=0.5))
    c = _weights(averaged)
    assert all(torch.equal(a[k], c[k]) for k in a)
    with pytest.raises(CheckpointError, match="architecture"):
        train_scorer(_config(tmp_path / "c", data, init=str(first), width=64))


def test_a_deeper_second_stage_grows_the_scorer_and_first_ranks_as_it(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 4)
    first = train_scorer(_config(tmp_path / "a", data))
    grown = train_scorer(_config(tmp_path / "b", data, init=str(first), lr=0.0, layers=3))
    small, deep = HMRScorer.load(first, body=body), HMRScorer.load(grown, body=body)
    assert len(deep.transformer.layers) == 3
    g = torch.Generator().manual_seed(0)
    images, keypoints = torch.randn(2, 3, 64, 64, generator=g), torch.rand(2, 17, 3, generator=g)
    crop, depth = torch.rand(2, 6, 41, 2, generator=g) * 2 - 1, torch.randn(2, 6, 41, generator=g) * 0.2
    with torch.no_grad():
        torch.testing.assert_close(deep.logits(images, keypoints, crop, depth), small.logits(images, keypoints, crop, depth))
    # A deeper scorer cannot be squeezed into a shallower run.
    with pytest.raises(CheckpointError, match="only more layers"):
        train_scorer(_config(tmp_path / "c", data, init=str(grown)))


def test_resume_without_state_or_with_a_corrupt_state_is_refused(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 4)
    config = _config(tmp_path, data, resume=True)
    with pytest.raises(CheckpointError, match="no training state"):
        train_scorer(config)
    path = state_path(config.out)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="cannot resume"):
        train_scorer(config)


def test_data_without_labels_is_refused(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 0, unlabelled=3)
    with pytest.raises(DataError, match="pose and camera labels"):
        train_scorer(_config(tmp_path, data))


def test_pseudo_labels_are_left_out_unless_asked_for(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 4, kind="pseudo")
    with pytest.raises(DataError, match="non-pseudo"):
        train_scorer(_config(tmp_path, data))
    assert train_scorer(_config(tmp_path, data, include_pseudo=True, steps=1)).is_file()


def test_base_model_samples_join_the_candidates(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 4)
    base = tiny_base(tmp_path / "base", body)
    weights = train_scorer(_config(tmp_path, data, base=str(base), base_candidates=2, steps=2))
    assert json.loads(weights.with_suffix(".json").read_text())["training"]["base"] == str(base)


def test_cli_trains_end_to_end(tmp_path, body, capsys):
    data = write_dataset(tmp_path / "data", body, 6)
    out = tmp_path / "cli" / "scorer"
    rc = cli_main(["train-scorer", "--data", str(data), "--out", str(out), "--steps", "2", "--batch-size", "2",
                   "--candidates-per-image", "4", "--width", "32", "--layers", "1", "--heads", "2",
                   "--crop-size", "64", "--no-augment", "--device", "cpu", "--val-every", "2"])
    assert rc == 0
    assert f"wrote {out}.safetensors" in capsys.readouterr().out
    assert cli_main(["train-scorer", "--data", str(tmp_path / "missing.npz"), "--out", str(out)]) == 1
    assert cli_main(["train-scorer", "--data", str(data), "--out", str(out), "--candidates-per-image", "1"]) == 1


def test_config_refuses_settings_that_cannot_rank(tmp_path):
    with pytest.raises(ValueError):
        ScorerTrainConfig(data="d", out="o", candidates_per_image=1)
    with pytest.raises(ValueError):
        ScorerTrainConfig(data="d", out="o", base="b", base_candidates=16, candidates_per_image=16)
    assert replace(ScorerTrainConfig(data="d", out="o"), steps=5).steps == 5
    # A config read back from JSON (a checkpoint, job parameters) rebuilds its noise settings.
    config = ScorerTrainConfig(data="d", out="o", noise={"max_level": 0.5})
    assert config.noise.max_level == 0.5 and ScorerTrainConfig(**json.loads(json.dumps(config.to_dict()))) == config


def test_error_weights_decide_which_ordering_the_loss_follows():
    # Two candidates that MPJPE and PVE order one way and PA-MPJPE the other.
    errors = {"MPJPE": torch.tensor([[10.0, 20.0]]), "PA-MPJPE": torch.tensor([[9.0, 5.0]]),
              "PVE": torch.tensor([[12.0, 25.0]])}
    follows_pa = torch.tensor([[0.0, 3.0]])
    equal, equal_acc = ranknet_loss(follows_pa, errors)
    pa_only, pa_acc = ranknet_loss(follows_pa, errors, weights={"MPJPE": 0.0, "PVE": 0.0})
    assert pa_acc == 1.0 and equal_acc == pytest.approx(1 / 3)
    assert pa_only < 0.05 < equal


    def step_towards_pa(weights):  # does a gradient step from a tie rank candidate 1 (PA's pick) up?
        tie = torch.zeros(1, 2, requires_grad=True)
        ranknet_loss(tie, errors, weights=weights)[0].backward()
        return bool(tie.grad[0, 1] < tie.grad[0, 0])

    assert not step_towards_pa(None)  # two global errors outvote PA-MPJPE
    assert step_towards_pa({"PA-MPJPE": 4.0})
    assert ScorerTrainConfig(data="d", out="o", error_weights={"PA-MPJPE": 4}).weights() == {
        "MPJPE": 1.0, "PA-MPJPE": 4.0, "PVE": 1.0}


def test_error_weights_that_cannot_train_are_refused(tmp_path, body, capsys):
    with pytest.raises(ValueError, match="unknown error 'PA'"):
        ScorerTrainConfig(data="d", out="o", error_weights={"PA": 2.0})
    with pytest.raises(ValueError, match=">= 0"):
        ScorerTrainConfig(data="d", out="o", error_weights={"MPJPE": -1.0})
    with pytest.raises(ValueError, match="not all 0"):
        ScorerTrainConfig(data="d", out="o", error_weights=dict.fromkeys(("MPJPE", "PA-MPJPE", "PVE"), 0.0))
    data = write_dataset(tmp_path / "data", body, 4)
    with pytest.raises(SystemExit):
        cli_main(["train-scorer", "--data", str(data), "--out", str(tmp_path / "s"), "--error-weights", "PA-MPJPE"])
    assert "expected NAME=WEIGHT" in capsys.readouterr().err
    assert cli_main(["train-scorer", "--data", str(data), "--out", str(tmp_path / "s"),
                     "--error-weights", "PA-MPJPE=4,PVE=-2"]) == 1
