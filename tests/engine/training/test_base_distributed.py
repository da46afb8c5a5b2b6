"""Data-parallel training: shards, resumable order, and a real two-process gloo run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_two_gloo_processes_train_one_checkpoint(tmp_path):
    """Both ranks started by torchrun in a subprocess, as the README runs them: spawning
    them with torch.multiprocessing inside pytest aborted rank 1 on some Intel machines."""
    from test_base_train import make_records

    from engine.body.model import BodyModel
    from engine.data.load import save_annotation_file
    from engine.models.diffusion_hmr import DiffusionHMR

    body = BodyModel()
    npz = tmp_path / "train.npz"
    save_annotation_file(npz, make_records(tmp_path, body, 4))
    out = tmp_path / "ddp" / "base"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1", "--nproc-per-node=2",
        "-m", "engine.cli", "train-base", "--data", str(npz), "--out", str(out), "--steps", "2",
        "--batch-size", "2", "--crop-size", "64", "--width", "32", "--layers", "1", "--heads", "2",
        "--workers", "0", "--device", "cpu", "--no-augment",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    written = sorted(p.name for p in Path(out).parent.iterdir())
    assert written == ["base.json", "base.safetensors", "base.train.pt"]
    model = DiffusionHMR.load(out, body=body)
    assert model.config["training"]["step"] == 2
