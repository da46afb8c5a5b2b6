"""DPO fine-tuning runs: it learns the pairs, the reference stays frozen, a stopped or
killed run resumes to the same weights, checkpoints say what they are, bad inputs fail
before anything is written."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.data.load import load_dataset
from engine.errors import CheckpointError, DataError, JobCancelled
from engine.evaluation import evaluate_dpo_checkpoint
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.scorer import HMRScorer
from engine.training.distributed import DistInfo
from engine.training.dpo import DPOConfig
from engine.training.dpo_train import DPOTrainer, train_dpo, weights_of
from engine.training.pair_io import load_pairs, save_pairs
from engine.training.pairs import PairConfig, build_pairs

from test_pairs_build import tiny_data, tiny_models




@pytest.fixture(scope="module")
def setup(tmp_path_factory, body):
    """(folder, base, scorer, labelled data, pairs.jsonl) with 8 pairs of 4 people."""
    folder = tmp_path_factory.mktemp("dpo")
    torch.set_num_threads(1)
    base, scorer = tiny_models(folder, body)
    data = tiny_data(folder / "data", body, n=4)
    records = load_dataset(data).records
    config = PairConfig(num_candidates=8, pairs_per_image=2, top_k=2, bottom_k=2, min_margin=0.0)
    pairs = build_pairs(records, DiffusionHMR.load(base, body=body), HMRScorer.load(scorer, body=body), body, config)
    save_pairs(folder / "pairs.jsonl", pairs)
    return folder, base, scorer, data, folder / "pairs.jsonl"


def _config(setup, out: Path, **kw) -> DPOConfig:
    folder, base, _, _, pairs = setup
    values = dict(out=str(out), base=str(base), pairs=(str(pairs),), steps=6, batch_size=2, lr=1e-3, log_every=1,
                  save_every=2, warmup_steps=2)
    values.update(kw)
    return DPOConfig(**values)


def _gap(model, data, draws: int = 16) -> torch.Tensor:
    """Per pair and draw of (t, ε): the winner's error minus the loser's, (draws * N,)."""
    from torch.utils.data import default_collate

    from engine.training.dpo import pair_errors

    batch = default_collate([data[i] for i in range(len(data))])
    g = torch.Generator().manual_seed(123)
    out = []
    with torch.no_grad():
        for _ in range(draws):
            t = torch.randint(0, 1000, (len(data),), generator=g)
            w, lo = pair_errors(model, batch, t, torch.randn(len(data), 157, generator=g))
            out.append(w - lo)
    return torch.cat(out)


def test_dpo_learns_to_prefer_the_winners(setup, tmp_path, body):
    from engine.training.dpo_data import PairDataset

    _, base, _, _, pairs = setup
    seen = []
    weights = train_dpo(_config(setup, tmp_path / "dpo", steps=40, batch_size=4, lr=1e-3), progress=seen.append)
    logs = [e.metrics for e in seen if "dpo_loss" in e.metrics]
    assert len(logs) == 40 and {"loss", "implicit_acc", "reward_margin", "lr"} <= set(logs[0])
    assert logs[0]["dpo_loss"] == pytest.approx(math.log(2), abs=1e-6)
    # On fresh draws of (t, ε) the tuned model's winner-minus-loser error fell below the reference's.
    reference = DiffusionHMR.load(base, body=body)
    tuned = DiffusionHMR.load(weights, body=body)
    data = PairDataset(load_pairs(pairs), reference.crop_size, reference.normalizer)
    logit = -50.0 * (_gap(tuned, data) - _gap(reference, data))
    assert float(logit.mean()) > 0 and float((logit > 0).float().mean()) > 0.6


def test_the_reference_stays_frozen_and_the_checkpoint_records_its_parent(setup, tmp_path, body):
    _, base, _, _, _ = setup
    trainer = DPOTrainer(_config(setup, tmp_path / "dpo", steps=3), DistInfo())
    weights = trainer.run()
    start = weights_of(base)
    for name, p in trainer.reference.state_dict().items():
        np.testing.assert_array_equal(p.numpy(), start[name])
    assert all(p.grad is None and not p.requires_grad for p in trainer.reference.parameters())
    moved = trainer.model.state_dict()
    assert any(not np.array_equal(moved[k].numpy(), start[k]) for k in start)
    config = json.loads(weights.with_suffix(".json").read_text())
    assert config["kind"] == "dpo" and config["parent"] == str(base.with_suffix(".safetensors"))
    assert config["training"]["step"] == 3 and config["training"]["beta"] == 100.0
    assert DiffusionHMR.load(weights, body=body).config["kind"] == "dpo"


def _same_weights(a: Path, b: Path) -> None:
    wa, wb = weights_of(a), weights_of(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


def test_a_cancelled_run_resumes_to_the_same_weights(setup, tmp_path):
    kw = dict(ema_decay=0.9, antithetic=True)
    full = train_dpo(_config(setup, tmp_path / "full", **kw))
    calls = []
    with pytest.raises(JobCancelled):
        train_dpo(_config(setup, tmp_path / "part", **kw), should_cancel=lambda: calls.append(1) or len(calls) > 3)
    assert torch.load(tmp_path / "part.train.pt", weights_only=True)["step"] == 3
    events = []
    resumed = train_dpo(_config(setup, tmp_path / "part", resume=True, **kw), progress=events.append)
    assert [e.message for e in events] == ["step 4/6", "step 5/6", "step 6/6"]
    _same_weights(full, resumed)


class Killed(Exception):
    """Stands for the process dying: nothing is saved on the way out."""


def test_a_killed_run_resumes_from_its_last_save(setup, tmp_path):
    _, _, _, data, _ = setup
    kw = dict(sft_data=(str(data),), sft_weight=0.5)
    full = train_dpo(_config(setup, tmp_path / "full", **kw))

    def die_after_step_5(event):
        if event.message == "step 5/6":
            raise Killed

    with pytest.raises(Killed):
        train_dpo(_config(setup, tmp_path / "part", **kw), progress=die_after_step_5)
    assert torch.load(tmp_path / "part.train.pt", weights_only=True)["step"] == 4
    resumed = train_dpo(_config(setup, tmp_path / "part", resume=True, **kw))
    _same_weights(full, resumed)


def test_the_control_and_supervised_modes_write_base_checkpoints(setup, tmp_path):
    _, base, _, data, _ = setup
    seen = []
    control = train_dpo(_config(setup, tmp_path / "control", mode="reprojection", steps=2), progress=seen.append)
    assert "reprojection" in seen[-1].metrics and "dpo_loss" not in seen[-1].metrics
    sup = train_dpo(_config(setup, tmp_path / "sup", mode="supervised", pairs=(), sft_data=(str(data),), steps=2))
    for w in (control, sup):
        config = json.loads(w.with_suffix(".json").read_text())
        assert config["kind"] == "base" and config["parent"] == str(base.with_suffix(".safetensors"))


def test_held_out_evaluation_is_logged(setup, tmp_path):
    _, _, scorer, data, _ = setup
    seen = []
    train_dpo(_config(setup, tmp_path / "dpo", steps=2, eval_data=str(data), eval_every=1, eval_images=2, eval_num_candidates=3,
                      scorer=str(scorer)), progress=seen.append, evaluator=evaluate_dpo_checkpoint)
    evals = [e.metrics for e in seen if "eval_step" in e.metrics]
    assert [m["eval_step"] for m in evals] == [1.0, 2.0]
    assert {"eval_Select_MPJPE", "eval_Zero-noise_PA-MPJPE", "eval_Mean_PVE", "eval_Min_MPJPE"} <= set(evals[0])


def _rewrite(pairs_file: Path, out: Path, **changes) -> Path:
    save_pairs(out, [replace(p, **changes) for p in load_pairs(pairs_file)])
    return out


def test_bad_inputs_fail_before_anything_is_written(setup, tmp_path, body):
    folder, base, scorer, _, pairs = setup
    out = tmp_path / "never"
    short = load_pairs(pairs)
    save_pairs(tmp_path / "short.jsonl", [replace(p, winner=p.winner[:100], loser=p.loser[:100],
                                                  winner_key="", loser_key="") for p in short])
    cases = [
        (dict(pairs=(str(tmp_path / "short.jsonl"),)), DataError, "length 100, but the model's layout has 157"),
        (dict(pairs=(str(_rewrite(pairs, tmp_path / "rejected.jsonl", status="rejected")),)), DataError,
         "no pairs to train on"),
        (dict(pairs=(str(_rewrite(pairs, tmp_path / "gone.jsonl", image=str(tmp_path / "gone.png"))),)), DataError,
         "image not found"),
        (dict(pairs=(str(tmp_path / "missing.jsonl"),)), DataError, "no such pairs file"),
        (dict(base=str(scorer)), CheckpointError, "a scorer checkpoint"),
        (dict(resume=True), CheckpointError, "no training state"),
        (dict(mode="supervised", pairs=()), DataError, "needs labelled data"),
    ]
    for kw, error, message in cases:
        with pytest.raises(error, match=message):
            train_dpo(_config(setup, out, **kw))
        assert not list(tmp_path.glob("never*"))
    with pytest.raises(DataError, match="mode must be one of"):
        _config(setup, out, mode="ppo")


def test_resuming_with_other_pairs_is_refused(setup, tmp_path):
    _, _, _, _, pairs = setup
    calls = []
    with pytest.raises(JobCancelled):
        train_dpo(_config(setup, tmp_path / "run"), should_cancel=lambda: calls.append(1) or len(calls) > 1)
    fewer = tmp_path / "fewer.jsonl"
    save_pairs(fewer, load_pairs(pairs)[:4])
    with pytest.raises(CheckpointError, match="on 8 pairs, not this dpo run on 4"):
        train_dpo(_config(setup, tmp_path / "run", pairs=(str(fewer),), resume=True))
