"""Base training from a trained model (--init), detector-conditioned, and with blanked crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import DatasetDetections
from engine.errors import CheckpointError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.training.base_data import blank_images
from engine.training.base_train import BaseTrainConfig, train_base
from tests.engine.training.test_base_train import TINY, make_records


def _detections(records) -> DatasetDetections:
    d = DatasetDetections.empty(len(records))
    rng = np.random.default_rng(0)
    for i, r in enumerate(records):
        d.keypoints[i] = r.keypoints
        d.world_landmarks[i] = rng.normal(0, 0.3, (33, 3))
        d.landmark_visibility[i] = d.landmark_presence[i] = 1.0
        d.found[i] = True
    return d


def test_blank_images_blanks_the_share_asked_and_nothing_else():
    torch.manual_seed(0)
    batch = {"image": torch.randn(400, 3, 4, 4), "keypoints": torch.zeros(400, 17, 3)}
    out = blank_images(batch, 0.5)
    blank = (out["image"] == 0).flatten(1).all(1)
    assert 0.4 < float(blank.float().mean()) < 0.6
    assert torch.equal(out["image"][~blank], batch["image"][~blank])
    assert out["keypoints"] is batch["keypoints"]


def test_init_starts_from_the_checkpoint_and_refuses_another_input_size(tmp_path, body):
    torch.set_num_threads(1)
    records = make_records(tmp_path, body, 4)
    data = PersonCropDataset(records, out_size=64, detections=_detections(records))
    first = BaseTrainConfig(data=(), out=str(tmp_path / "first"), steps=2, batch_size=2, detector_inputs=True,
                            **TINY)
    train_base(first, train_data=data)
    start = DiffusionHMR.load(tmp_path / "first", body=body)
    # No steps beyond warm-up's first: at step 0 of the new run the weights are the checkpoint's.
    second = BaseTrainConfig(data=(), out=str(tmp_path / "second"), steps=1, batch_size=2, lr=1e-12,
                             detector_inputs=True, init=str(tmp_path / "first"), image_dropout=0.5,
                             **{**TINY, "warmup_steps": 0})
    train_base(second, train_data=data)
    after = DiffusionHMR.load(tmp_path / "second", body=body)
    assert after.detector_inputs
    for (name, a), b in zip(start.state_dict().items(), after.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name
    plain = BaseTrainConfig(data=(), out=str(tmp_path / "third"), steps=1, batch_size=2,
                            init=str(tmp_path / "first"), **TINY)
    with pytest.raises(CheckpointError, match="--detector-inputs"):
        train_base(plain, train_data=PersonCropDataset(records, out_size=64))
