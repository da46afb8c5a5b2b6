"""Base-model training: it learns, it resumes exactly, the CLI drives it end to end."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from engine.body.model import BodyModel
from engine.body.named_poses import NAMED_POSES
from engine.cli import main as cli_main
from engine.data.dataset import PersonCropDataset
from engine.data.load import save_annotation_file
from engine.data.records import PersonSample
from engine.errors import CheckpointError, JobCancelled
from engine.models.diffusion_hmr import DiffusionHMR
from engine.training.base_train import BaseTrainConfig, root_joint_fn, train_base, train_state_path

TINY = dict(crop_size=64, width=32, layers=1, heads=2, workers=0, log_every=1, warmup_steps=5)
LIMBS = ((5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16), (5, 6), (11, 12), (5, 11), (6, 12))



@pytest.fixture
def one_thread():
    """Tiny tensors train faster on one thread, and do not stall when other processes
    keep the cores busy (two OpenMP threads then wait on each other at every op)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_records(folder: Path, body: BodyModel, n: int, seed: int = 0, jitter: float = 0.05) -> list[PersonSample]:
    """n people in named poses (each joint turned by up to ``jitter`` rad at random), drawn
    as stick figures on noise, with full labels."""
    rng = np.random.default_rng(seed)
    names = sorted(NAMED_POSES)
    box = np.array([16.0, 8.0, 80.0, 88.0], np.float32)
    centre, side = np.array([48.0, 48.0]), 80.0
    records = []
    for i in range(n):
        pose = NAMED_POSES[names[i % len(names)]].copy()
        pose[0] = [np.pi, 0.0, 0.0]
        pose = (pose + rng.normal(0, jitter, pose.shape)).reshape(72).astype(np.float32)
        betas = rng.normal(0, 10 * jitter, 10).astype(np.float32)
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
        records.append(PersonSample(str(path), box, keypoints, pose, betas, None, cam, "gt"))
    return records


def _zero_noise_mpjpe(model: DiffusionHMR, body: BodyModel, batch: dict) -> float:
    params = model.sample(batch["image"], batch["keypoints"], 1)[:, 0]
    rot, betas, _ = model.layout.split(params)
    pred = body(rot, betas).joints
    gt = body(batch["pose"], batch["betas"], rotation_format="axis_angle").joints
    return float(((pred - pred[:, :1]) - (gt - gt[:, :1])).norm(dim=-1).mean() * 1000)


def test_tiny_model_overfits_a_handful_of_people(tmp_path, body, one_thread):
    records = make_records(tmp_path, body, 4)
    data = PersonCropDataset(records, out_size=64, train=False, root_joint=root_joint_fn(body))
    seen = []
    config = BaseTrainConfig(data=(), out=str(tmp_path / "ckpt"), steps=150, batch_size=4, lr=1e-2,
                             save_every=1000, **TINY)
    train_base(config, progress=lambda e: seen.append(e.metrics), train_data=data)
    x0 = [m["x0"] for m in seen if "x0" in m]
    assert len(x0) == 150
    first, last = np.mean(x0[:10]), np.mean(x0[-10:])
    assert last < 0.6 * first, (first, last)
    # The zero-noise hypothesis moves from the average pose to each person's own pose.
    trained = DiffusionHMR.load(tmp_path / "ckpt", body=body)
    untrained = DiffusionHMR(trained.config, trained.normalizer, body)
    batch = next(iter(torch.utils.data.DataLoader(data, batch_size=4)))
    before, after = _zero_noise_mpjpe(untrained, body, batch), _zero_noise_mpjpe(trained, body, batch)
    assert after < 0.5 * before, (before, after)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path))


def test_resume_repeats_the_uninterrupted_run(tmp_path, body):
    records = make_records(tmp_path, body, 6)
    npz = tmp_path / "train.npz"
    save_annotation_file(npz, records)
    common = dict(data=(str(npz),), steps=6, batch_size=2, save_every=3, augment=True, **TINY)
    full = train_base(BaseTrainConfig(out=str(tmp_path / "full"), **common))

    calls = []

    def cancel_after_three() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(JobCancelled):
        train_base(BaseTrainConfig(out=str(tmp_path / "part"), **common), should_cancel=cancel_after_three)
    assert torch.load(train_state_path(tmp_path / "part"), weights_only=True)["step"] == 3
    events = []
    resumed = train_base(BaseTrainConfig(out=str(tmp_path / "part"), resume=True, **common), progress=events.append)
    assert [e.message for e in events] == ["step 4/6", "step 5/6", "step 6/6"]

    a, b = _weights(full), _weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_resume_without_a_state_is_refused(tmp_path, body):
    records = make_records(tmp_path, body, 2)
    data = PersonCropDataset(records, out_size=64)
    config = BaseTrainConfig(data=(), out=str(tmp_path / "none"), steps=2, batch_size=2, resume=True, **TINY)
    with pytest.raises(CheckpointError, match="no training state"):
        train_base(config, train_data=data)


def test_cli_train_base_writes_a_loadable_checkpoint(tmp_path, body, capsys):
    npz = tmp_path / "train.npz"
    save_annotation_file(npz, make_records(tmp_path, body, 4))
    out = tmp_path / "cli" / "base"
    rc = cli_main([
        "train-base", "--data", str(npz), "--val", str(npz), "--out", str(out), "--steps", "3",
        "--batch-size", "2", "--crop-size", "64", "--width", "32", "--layers", "1", "--heads", "2",
        "--workers", "0", "--val-every", "3",
    ])
    assert rc == 0
    assert f"wrote {out}.safetensors" in capsys.readouterr().out
    model = DiffusionHMR.load(out, body=body)
    assert model.config["kind"] == "base"
    assert model.config["training"]["step"] == 3
    assert model.crop_size == 64 and model.config["width"] == 32
