"""HMR-Scorer checkpoints: round trip and refusals."""

import json
from types import SimpleNamespace

import pytest
import torch

from engine.errors import CheckpointError
from engine.models import scorer as scorer_module
from engine.models.checkpoint import body_signature, save_checkpoint
from engine.models.scorer import HMRScorer, ScorerConfig

TINY = ScorerConfig(crop_size=64, width=32, layers=2, heads=2, grid=4)
BODY = SimpleNamespace(name="test-body", num_vertices=100)
OTHER_BODY = SimpleNamespace(name="smpl", num_vertices=6890)


def _saved(tmp_path):
    torch.manual_seed(0)
    model = HMRScorer(TINY)
    model.body_signature = body_signature(BODY)
    model.save(tmp_path / "scorer", extra={"note": "test"})
    return model, tmp_path / "scorer"


def _inputs():
    g = torch.Generator().manual_seed(0)
    return (torch.randn(2, 3, 64, 64, generator=g), torch.rand(2, 17, 3, generator=g),
            torch.rand(2, 4, 41, 2, generator=g) * 2 - 1, torch.randn(2, 4, 41, generator=g) * 0.1)


def test_round_trip_gives_the_same_scores_and_architecture(tmp_path):
    model, path = _saved(tmp_path)
    loaded = HMRScorer.load(path, body=BODY)
    assert loaded.config == TINY
    assert loaded.checkpoint_config["note"] == "test"
    assert json.loads(path.with_suffix(".json").read_text())["kind"] == "scorer"
    with torch.no_grad():
        assert torch.allclose(model.eval()(*_inputs()), loaded(*_inputs()))


def test_scorer_for_another_body_model_is_refused(tmp_path):
    _, path = _saved(tmp_path)
    with pytest.raises(CheckpointError, match="body model"):
        HMRScorer.load(path, body=OTHER_BODY)


def test_truncated_weights_are_refused(tmp_path):
    _, path = _saved(tmp_path)
    weights = path.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        HMRScorer.load(path)


def test_untrusted_pickle_is_refused(tmp_path):
    _, path = _saved(tmp_path)
    pt = tmp_path / "scorer.pt"
    torch.save({"weights": SimpleNamespace(x=1)}, pt)
    with pytest.raises(CheckpointError, match="refused"):
        HMRScorer.load(pt)


def test_base_model_checkpoint_is_not_a_scorer(tmp_path):
    save_checkpoint(tmp_path / "base", {"w": torch.zeros(2)}, {"kind": "base", "body_model": body_signature(BODY)})
    with pytest.raises(CheckpointError, match="expected scorer"):
        HMRScorer.load(tmp_path / "base")


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path):
    _, path = _saved(tmp_path)
    cfg = json.loads(path.with_suffix(".json").read_text())
    cfg["architecture"]["width"] = 64
    path.with_suffix(".json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="do not fit"):
        HMRScorer.load(path)


def test_missing_default_checkpoint_names_the_train_command(tmp_path, monkeypatch):
    monkeypatch.setattr(scorer_module, "DEFAULT_SCORER_PATH", tmp_path / "checkpoints" / "scorer")
    with pytest.raises(CheckpointError, match="adhmr train-scorer"):
        HMRScorer.load()
