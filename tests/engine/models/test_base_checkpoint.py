"""Saving and loading the base model; every checkpoint that does not fit is refused."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

import engine.models.diffusion_hmr as dh
from engine.body.model import OPEN_BODY_PATH, BodyModel
from engine.errors import CheckpointError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import Normalizer

TINY = {"crop_size": 64, "width": 32, "layers": 1, "heads": 2}



@pytest.fixture(scope="module")
def saved(tmp_path_factory, body):
    """A tiny model with random weights and a fitted normaliser, saved once."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    normalizer = Normalizer.fit(rng.normal(size=(50, 157)))
    model = DiffusionHMR(TINY, normalizer, body)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    path = tmp_path_factory.mktemp("ckpt") / "base"
    model.save(path)
    return model, path


def _inputs():
    g = torch.Generator().manual_seed(2)
    return torch.randn(2, 3, 64, 64, generator=g), torch.rand(2, 17, 3, generator=g)


def test_round_trip_gives_the_same_samples(saved, body):
    model, path = saved
    loaded = DiffusionHMR.load(path, body=body)
    assert loaded.config["kind"] == "base"
    assert loaded.config["body_model"]["name"] == body.name
    np.testing.assert_array_equal(loaded.normalizer.std, model.normalizer.std)
    assert torch.equal(model.sample(*_inputs(), 3, seed=4), loaded.sample(*_inputs(), 3, seed=4))
    # Any of the two files names the checkpoint.
    DiffusionHMR.load(path.with_suffix(".json"), body=body)


def test_dpo_checkpoints_load_and_keep_their_parent(saved, body, tmp_path):
    model, path = saved
    model.save(tmp_path / "dpo", extra_config={"kind": "dpo", "parent": str(path)})
    loaded = DiffusionHMR.load(tmp_path / "dpo", body=body)
    assert loaded.config["kind"] == "dpo" and loaded.config["parent"] == str(path)
    # Saving again without saying otherwise writes a base checkpoint.
    loaded.save(tmp_path / "again")
    assert json.loads((tmp_path / "again.json").read_text())["kind"] == "base"


def test_another_kind_is_refused(saved, body, tmp_path):
    model, _ = saved
    model.save(tmp_path / "scorer", extra_config={"kind": "scorer"})
    with pytest.raises(CheckpointError, match="a scorer checkpoint, expected base or dpo"):
        DiffusionHMR.load(tmp_path / "scorer", body=body)


def test_another_body_model_is_refused(saved, tmp_path):
    _, path = saved
    with np.load(OPEN_BODY_PATH, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["name"] = np.array("someone-else")
    other = tmp_path / "other_body.npz"
    np.savez(other, **arrays)
    with pytest.raises(CheckpointError, match="someone-else"):
        DiffusionHMR.load(path, body=BodyModel(other))


def test_truncated_weights_are_refused(saved, body, tmp_path):
    _, path = saved
    data = path.with_suffix(".safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    (tmp_path / "cut.json").write_text(path.with_suffix(".json").read_text())
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        DiffusionHMR.load(tmp_path / "cut", body=body)


def test_weights_of_another_architecture_are_refused(saved, body, tmp_path):
    _, path = saved
    cfg = json.loads(path.with_suffix(".json").read_text())
    cfg["width"] = 64
    (tmp_path / "wide.json").write_text(json.dumps(cfg))
    (tmp_path / "wide.safetensors").write_bytes(path.with_suffix(".safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="do not fit"):
        DiffusionHMR.load(tmp_path / "wide", body=body)


class _Payload:
    def __reduce__(self):
        return (print, ("pwned",))


def test_a_pickle_with_arbitrary_objects_is_refused(saved, body, tmp_path, capsys):
    _, path = saved
    (tmp_path / "evil.json").write_text(path.with_suffix(".json").read_text())
    with open(tmp_path / "evil.pt", "wb") as fh:
        pickle.dump({"encoder.x": _Payload()}, fh, protocol=2)
    with pytest.raises(CheckpointError, match="refused to load|corrupt"):
        DiffusionHMR.load(tmp_path / "evil.pt", body=body)
    assert "pwned" not in capsys.readouterr().out


def test_missing_default_checkpoint_names_the_train_command(body, tmp_path, monkeypatch):
    monkeypatch.setattr(dh, "DEFAULT_CHECKPOINT", tmp_path / "base")
    with pytest.raises(CheckpointError, match="adhmr train-base"):
        DiffusionHMR.load(None, body=body)
