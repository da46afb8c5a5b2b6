"""Cached base samples for scorer training: made once, reused, refused when stale, and
turned into each augmented crop exactly as the labels are."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from engine.cli import main as cli_main
from engine.data.dataset import PersonCropDataset
from engine.data.load import load_dataset
from engine.diffusion import DEFAULT_STEPS
from engine.errors import DataError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import ParamLayout
from engine.training.candidate_noise import RestRootJoint
from engine.training.scorer_data import BaseSampler
from engine.training.scorer_sample_cache import (
    CachedSamples,
    SampleCache,
    load_or_build_sample_cache,
    load_sample_cache,
    sample_cache_key,
)
from engine.training.scorer_train import ScorerTrainConfig, train_scorer
from test_scorer_train import TINY, tiny_base, write_dataset


def _labels(item) -> torch.Tensor:
    return ParamLayout().from_axis_angle(item["pose"], item["betas"], item["camera"])


def test_cached_bodies_follow_the_augmented_crop_as_the_labels_do(tmp_path, body):
    records = load_dataset(write_dataset(tmp_path, body, 6)).records
    upright = PersonCropDataset(records, 64, train=False, root_joint=RestRootJoint(body))
    augmented = PersonCropDataset(records, 64, train=True, seed=3, root_joint=RestRootJoint(body))
    # The labels of the upright crops stand in for samples: turned into each augmented
    # crop they must equal that crop's own labels.
    items = [upright[i] for i in range(len(records))]
    cache = SampleCache(torch.stack([_labels(it) for it in items])[:, None].numpy(),
                        np.stack([it["crop_center"].numpy() for it in items]),
                        np.array([float(it["crop_size"]) for it in items]), {})
    cached = CachedSamples(cache, RestRootJoint(body))
    turned = flipped = 0
    for epoch in range(3):
        augmented.set_epoch(epoch)
        batch = default_collate([augmented[i] for i in range(len(records))])
        got = cached.sample(batch, torch.ones(len(records), dtype=torch.bool), 1, seed=epoch)[:, 0]
        want = torch.stack([_labels({k: batch[k][i] for k in ("pose", "betas", "camera")})
                            for i in range(len(records))])
        # Compare the posed bodies' 2D keypoints and 3D joints: what the scorer reads.
        a = body(*ParamLayout().split(got), rotation_format="6d")
        b = body(*ParamLayout().split(want), rotation_format="6d")
        torch.testing.assert_close(a.keypoints_2d, b.keypoints_2d, atol=1e-4, rtol=0)
        torch.testing.assert_close(a.joints, b.joints, atol=1e-4, rtol=0)
        turned += int((batch["crop_rotation"] != 0).sum())
        flipped += int(batch["crop_flip"].sum())
    assert turned > 0 and flipped > 0  # the check covered rotated and mirrored crops


def test_a_step_takes_a_seeded_subset_of_each_persons_samples(tmp_path, body):
    records = load_dataset(write_dataset(tmp_path, body, 4)).records
    dataset = PersonCropDataset(records, 64, train=False)
    batch = default_collate([dataset[i] for i in (2, 0)])
    layout = ParamLayout()
    params = np.stack([layout.from_axis_angle(0.1 * torch.randn(5, 72), torch.zeros(5, 10),
                                              torch.tensor([[0.9, 0.0, 0.1]]).repeat(5, 1)).numpy()
                       for _ in range(4)])
    cache = SampleCache(params, batch["crop_center"].numpy()[[1, 1, 0, 0]], batch["crop_size"].numpy()[[1, 1, 0, 0]], {})
    cached = CachedSamples(cache, RestRootJoint(body))
    keep = torch.tensor([True, True])
    got = cached.sample(batch, keep, 3, seed=1).numpy()
    assert got.shape == (2, 3, layout.dim)
    # Upright crops: the samples come back as cached, 3 distinct ones of person 2 and of person 0.
    for row, person in enumerate((2, 0)):
        match = [int(np.argmin(np.abs(params[person] - g).max(axis=1))) for g in got[row]]
        assert len(set(match)) == 3
        np.testing.assert_allclose(got[row], params[person, match], atol=1e-5)
    assert np.array_equal(got, cached.sample(batch, keep, 3, seed=1).numpy())
    assert not np.array_equal(got, cached.sample(batch, keep, 3, seed=2).numpy())
    with pytest.raises(DataError, match="holds 5 samples"):
        cached.sample(batch, keep, 6, seed=1)


def test_training_writes_the_cache_once_then_reuses_it_and_refuses_a_stale_one(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 6)
    base = tiny_base(tmp_path / "base", body)
    cache_file = tmp_path / "samples.npz"
    config = ScorerTrainConfig(data=str(data), out=str(tmp_path / "a" / "scorer"), base=str(base), base_candidates=2,
                               cache_samples=3, sample_cache=str(cache_file), steps=2, batch_size=2,
                               candidates_per_image=4, val_every=2, save_every=2, val_images=2, **TINY)
    events = []
    weights = train_scorer(config, progress=events.append)
    assert weights.is_file() and cache_file.is_file()
    assert any(e.message.startswith("base samples:") for e in events)
    key = json.loads(str(np.load(cache_file)["key"]))
    assert key["samples"] == 3 and key["people"] == 4  # 6 people, 2 held out for validation
    assert key["base_steps"] == DEFAULT_STEPS  # samples like those the scorer will rank
    first = cache_file.read_bytes()

    events.clear()
    train_scorer(ScorerTrainConfig(**{**config.to_dict(), "out": str(tmp_path / "b" / "scorer")}),
                 progress=events.append)
    assert cache_file.read_bytes() == first
    assert not any(e.message.startswith("base samples:") for e in events)

    other = tiny_base(tmp_path / "other", body)
    model = DiffusionHMR.load(other, body=body)
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    model.save(other)
    with pytest.raises(DataError, match="made with base_sha256="):
        train_scorer(ScorerTrainConfig(**{**config.to_dict(), "base": str(other)}))
    with pytest.raises(DataError, match="made with samples=3, this run needs 4"):
        train_scorer(ScorerTrainConfig(**{**config.to_dict(), "cache_samples": 4}))
    with pytest.raises(DataError, match=f"made with base_steps={DEFAULT_STEPS}, this run needs 4"):
        train_scorer(ScorerTrainConfig(**{**config.to_dict(), "base_steps": 4}))


def test_a_cache_is_keyed_by_the_people_and_a_broken_file_is_refused(tmp_path, body):
    data = write_dataset(tmp_path / "data", body, 4)
    records = load_dataset(data).records
    base_path = tiny_base(tmp_path / "base", body)
    base = BaseSampler.load(str(base_path), body, torch.device("cpu"))
    key = sample_cache_key(str(base_path), records, 2, 2, 0)
    cache = load_or_build_sample_cache(tmp_path / "c.npz", base, records, None, key, batch_size=3)
    assert cache.params.shape == (4, 2, ParamLayout().dim) and np.isfinite(cache.params).all()
    assert load_sample_cache(tmp_path / "c.npz", key).params.tobytes() == cache.params.tobytes()
    with pytest.raises(DataError, match="made with people=4, this run needs 3"):
        load_sample_cache(tmp_path / "c.npz", sample_cache_key(str(base_path), records[:3], 2, 2, 0))
    (tmp_path / "bad.npz").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="not a scorer sample cache"):
        load_sample_cache(tmp_path / "bad.npz", key)


def test_cli_sample_cache_needs_a_base(tmp_path, body, capsys):
    data = write_dataset(tmp_path / "data", body, 4)
    assert cli_main(["train-scorer", "--data", str(data), "--out", str(tmp_path / "s"),
                     "--sample-cache", str(tmp_path / "c.npz")]) == 1
    assert "needs a base model" in capsys.readouterr().err
    assert cli_main(["train-scorer", "--data", str(data), "--out", str(tmp_path / "s"), "--base-steps", "0"]) == 1
    assert "base_steps must be at least 1" in capsys.readouterr().err
