"""Data-parallel training: shards, resumable order, and a real two-process gloo run."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from engine.training.distributed import DistInfo, ResumableSampler


def test_shards_are_disjoint_and_resume_where_they_stopped():
    ranks = [ResumableSampler(20, DistInfo(rank=r, world_size=2), batch_size=3, seed=7) for r in range(2)]
    for s in ranks:
        s.set_position(epoch=1)
    a, b = list(ranks[0]), list(ranks[1])
    assert len(a) == len(b) == 9 and not set(a) & set(b)
    assert ranks[0].batches_per_epoch == 3
    ranks[0].set_position(epoch=1, start_batch=2)
    assert list(ranks[0]) == a[6:] and len(ranks[0]) == 3
    ranks[0].set_position(epoch=2)
    assert list(ranks[0]) != a
    with pytest.raises(ValueError):
        ResumableSampler(4, DistInfo(rank=3, world_size=2), batch_size=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, npz: str, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from engine.training.base_train import BaseTrainConfig, train_base

    config = BaseTrainConfig(data=(npz,), out=out, steps=2, batch_size=2, crop_size=64, width=32, layers=1,
                             heads=2, workers=0, device="cpu", augment=False)
    train_base(config)


def test_two_gloo_processes_train_one_checkpoint(tmp_path):
    from test_base_train import make_records

    from engine.body.model import BodyModel
    from engine.data.load import save_annotation_file
    from engine.models.diffusion_hmr import DiffusionHMR

    body = BodyModel()
    npz = tmp_path / "train.npz"
    save_annotation_file(npz, make_records(tmp_path, body, 4))
    out = tmp_path / "ddp" / "base"
    mp.start_processes(_worker, args=(_free_port(), str(npz), str(out)), nprocs=2, start_method="spawn")
    written = sorted(p.name for p in Path(out).parent.iterdir())
    assert written == ["base.json", "base.safetensors", "base.train.pt"]
    model = DiffusionHMR.load(out, body=body)
    assert model.config["training"]["step"] == 2
