"""Small, valid dataset files for the project tests (a module name no other test folder uses).

Labels are consistent: each record's keypoints are its body's COCO-17 keypoints seen
through its weak-perspective camera, so label cameras and fitted cameras can be checked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.body.model import BodyModel
from engine.data.coco_json import write_coco_json
from engine.data.prohmr_npz import write_prohmr_npz
from engine.data.records import PersonSample
from engine.data.spin_npz import write_spin_npz
from engine.image_io import save_image

IMAGE_SIZE = 48
BOX = np.array([6.0, 4.0, 38.0, 44.0], np.float32)
UPRIGHT = np.array([np.pi, 0.0, 0.0], np.float32)  # facing the camera, head up


def make_images(folder: Path, n: int, seed: int = 0, size: int = IMAGE_SIZE, prefix: str = "img") -> list[Path]:
    """n random-noise PNGs; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        p = folder / f"{prefix}{i:04d}.png"
        save_image(p, rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        paths.append(p)
    return paths


def labelled_records(
    images: list[Path], body: BodyModel, seed: int = 0, with_camera: bool = True, label_kind: str = "gt"
) -> list[PersonSample]:
    """One labelled person per image, keypoints projected from the label."""
    rng = np.random.default_rng(seed)
    n = len(images)
    pose = rng.normal(0, 0.15, (n, 72)).astype(np.float32)
    pose[:, :3] = UPRIGHT
    betas = rng.normal(0, 0.8, (n, 10)).astype(np.float32)
    cams = np.stack([rng.uniform(0.7, 1.0, n), rng.uniform(-0.1, 0.1, n), rng.uniform(-0.1, 0.1, n)], 1)
    with torch.no_grad():
        out = body(torch.from_numpy(pose), torch.from_numpy(betas), torch.from_numpy(cams.astype(np.float32)),
                   rotation_format="axis_angle")
    records = []
    for i, image in enumerate(images):
        r = PersonSample(str(image), BOX, np.zeros((17, 3)))
        center, side = r.crop_square
        kp = np.ones((17, 3))
        kp[:, :2] = center + out.keypoints_2d[i].numpy() * side / 2
        joints = np.concatenate([out.joints[i].numpy(), np.ones((24, 1))], 1)
        records.append(r.replace(
            keypoints=kp, pose=pose[i], betas=betas[i], camera=cams[i] if with_camera else None,
            joints3d=joints, label_kind=label_kind,
        ))
    return records


def keypoint_records(images: list[Path], seed: int = 0) -> list[PersonSample]:
    """One person per image with random keypoints and no 3D label."""
    rng = np.random.default_rng(seed)
    return [
        PersonSample(str(p), BOX, np.concatenate([rng.uniform(5, 40, (17, 2)), np.ones((17, 1))], 1))
        for p in images
    ]


WRITERS = {"spin": write_spin_npz, "prohmr": write_prohmr_npz, "coco": write_coco_json}
SUFFIX = {"spin": ".npz", "prohmr": ".npz", "coco": ".json"}


def write_dataset(folder: Path, fmt: str, n: int, body: BodyModel, seed: int = 0, name: str | None = None,
                  **kw) -> tuple[Path, list[PersonSample]]:
    """An annotation file of ``fmt`` with n persons over n fresh images in ``folder``."""
    name = name or fmt
    images = make_images(folder / f"{name}_images", n, seed)
    records = keypoint_records(images, seed) if fmt == "coco" else labelled_records(images, body, seed, **kw)
    path = folder / f"{name}{SUFFIX[fmt]}"
    WRITERS[fmt](path, records)
    return path, records


def tiny_checkpoints(folder: Path, body: BodyModel) -> tuple[Path, Path]:
    """A small random base model and scorer (untrained: for plumbing, not accuracy)."""
    from engine.models.checkpoint import body_signature
    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.scorer import HMRScorer, ScorerConfig

    torch.manual_seed(0)
    base = DiffusionHMR(
        {"crop_size": 32, "width": 16, "layers": 1, "heads": 2, "encoder_channels": [8, 8, 8, 8]}, body=body
    )
    scorer = HMRScorer(ScorerConfig(crop_size=32, width=16, layers=1, heads=2, grid=2))
    scorer.body_signature = body_signature(body)
    return base.save(folder / "base"), scorer.save(folder / "scorer")
