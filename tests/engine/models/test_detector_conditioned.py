"""A detector-conditioned base model: it reads the landmarks, saves that it needs them, and
older checkpoints keep working as before."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.data.landmark_tokens import landmark_tokens
from engine.errors import ShapeError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.sample_and_score import PersonCrops, sample_and_score
from engine.models.sample_settings import SampleSettings

TINY = {"crop_size": 64, "width": 32, "layers": 1, "heads": 2, "detector_inputs": True}


def _randomised(model: DiffusionHMR) -> DiffusionHMR:
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return model.eval()


def _inputs(b: int = 2):
    g = torch.Generator().manual_seed(3)
    images = torch.randn(b, 3, 64, 64, generator=g)
    keypoints = torch.rand(b, 17, 3, generator=g)
    world = np.random.default_rng(4).normal(0, 0.4, (b, 33, 3))
    landmarks = torch.from_numpy(np.stack([landmark_tokens(w, None, None) for w in world]))
    return images, keypoints, landmarks


def test_the_landmarks_change_the_samples_and_missing_ones_are_allowed(body):
    model = _randomised(DiffusionHMR(TINY, body=body))
    images, keypoints, landmarks = _inputs()
    a = model.sample(images, keypoints, 3, landmarks=landmarks)
    b = model.sample(images, keypoints, 3, landmarks=landmarks * 1.5)
    assert not torch.allclose(a, b)
    missing = model.sample(images, keypoints, 3)
    np.testing.assert_allclose(missing.numpy(), model.sample(images, keypoints, 3,
                               landmarks=torch.zeros_like(landmarks)).numpy(), atol=1e-6)
    with pytest.raises(ShapeError, match="landmarks"):
        model.sample(images, keypoints, 3, landmarks=landmarks[:, :17])


def test_the_pipeline_passes_the_landmarks_only_to_a_model_that_reads_them(body):
    images, keypoints, landmarks = _inputs()
    crops = PersonCrops(images, keypoints, torch.tensor([[32.0, 32.0]] * 2), torch.tensor([64.0] * 2), landmarks)
    # As sampled: this is about what reaches the model (the orientation step has its own tests).
    settings = SampleSettings(num_candidates=2, device="cpu", orient=False)
    conditioned = _randomised(DiffusionHMR(TINY, body=body))
    with_landmarks = sample_and_score(conditioned, body, crops, settings, with_vertices=False).params
    direct = conditioned.sample(images, keypoints, 2, landmarks=landmarks)
    np.testing.assert_allclose(with_landmarks.numpy(), direct.numpy(), atol=1e-5)
    older = _randomised(DiffusionHMR({**TINY, "detector_inputs": False}, body=body))
    assert not older.detector_inputs
    plain = sample_and_score(older, body, crops, settings, with_vertices=False).params
    np.testing.assert_allclose(plain.numpy(), older.sample(images, keypoints, 2).numpy(), atol=1e-5)


def test_the_checkpoint_records_the_inputs_and_an_older_one_loads_without_them(body, tmp_path):
    model = _randomised(DiffusionHMR(TINY, body=body))
    model.save(tmp_path / "cond")
    back = DiffusionHMR.load(tmp_path / "cond", body=body)
    assert back.detector_inputs
    images, keypoints, landmarks = _inputs()
    np.testing.assert_allclose(back.sample(images, keypoints, 2, landmarks=landmarks).numpy(),
                               model.sample(images, keypoints, 2, landmarks=landmarks).numpy(), atol=1e-6)
    older = _randomised(DiffusionHMR({**TINY, "detector_inputs": False}, body=body))
    older.save(tmp_path / "older")
    config_file = tmp_path / "older.json"
    config = json.loads(config_file.read_text())
    del config["detector_inputs"]  # as written before the option existed
    config_file.write_text(json.dumps(config))
    loaded = DiffusionHMR.load(tmp_path / "older", body=body)
    assert not loaded.detector_inputs
    np.testing.assert_allclose(loaded.sample(images, keypoints, 2, landmarks=landmarks).numpy(),
                               older.sample(images, keypoints, 2).numpy(), atol=1e-6)
