"""Helpers shared by the app tests (a module name no other test folder uses)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine import store
from engine.image_io import save_image

# A standing person in unit box coordinates (x, y in [0, 1]), COCO-17 order.
_SKELETON_UNIT = np.array([
    [0.50, 0.10], [0.53, 0.08], [0.47, 0.08], [0.56, 0.10], [0.44, 0.10],
    [0.62, 0.22], [0.38, 0.22], [0.68, 0.38], [0.32, 0.38], [0.70, 0.52], [0.30, 0.52],
    [0.58, 0.55], [0.42, 0.55], [0.58, 0.75], [0.42, 0.75], [0.58, 0.95], [0.42, 0.95],
])


def keypoints_in_box(box: tuple[float, float, float, float]) -> np.ndarray:
    """(17, 3) plausible COCO-17 keypoints of a standing person filling ``box``."""
    x0, y0, x1, y1 = box
    xy = _SKELETON_UNIT * [x1 - x0, y1 - y0] + [x0, y0]
    return np.concatenate([xy, np.full((17, 1), 0.9)], axis=1).astype(np.float32)


def make_images(folder: Path) -> list[Path]:
    """Two photos: skimage's astronaut (512 x 512) and a synthetic scene (480 x 360)."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    astronaut = folder / "astronaut.png"
    save_image(astronaut, data.astronaut())
    yy, xx = np.mgrid[0:360, 0:480]
    scene = np.stack([xx * 255 // 480, yy * 255 // 360, np.full_like(xx, 120)], -1).astype(np.uint8)
    scene[60:330, 200:280] = (230, 200, 170)
    synthetic = folder / "synthetic.png"
    save_image(synthetic, scene)
    return [astronaut, synthetic]


PERSON_BOXES = {"astronaut.png": (120.0, 30.0, 460.0, 510.0), "synthetic.png": (180.0, 50.0, 300.0, 340.0)}


def make_project(tmp_path: Path, gt_label: np.ndarray | None = None) -> Path:
    """A project with the two photos, one person each (box + keypoints, no detector).

    gt_label: (D,) ground-truth parameters for the astronaut's person, or None.
    """
    images = make_images(tmp_path / "photos")
    path = tmp_path / "test.adhmr"
    with store.Project.create(path) as project:
        ds = store.add_dataset(project, "photos", "images", str(tmp_path / "photos"))
        for image in images:
            image_id = store.add_image(project, ds, image.name, width=None, height=None)
            box = PERSON_BOXES[image.name]
            label = gt_label if (gt_label is not None and image.name == "astronaut.png") else None
            store.add_person(project, image_id, box, keypoints_in_box(box), label_params=label,
                             label_source="gt" if label is not None else None)
    return path


def save_tiny_models(folder: Path, body) -> tuple[Path, Path]:
    """An untrained tiny diffusion model and scorer saved with their own ``save``."""
    import torch

    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.checkpoint import body_signature
    from engine.models.scorer import HMRScorer, ScorerConfig

    torch.manual_seed(0)
    base = DiffusionHMR({"crop_size": 64, "width": 32, "layers": 1, "heads": 2,
                         "encoder_channels": [8, 16, 16, 16]}, body=body)
    base_path = folder / "base"
    base.save(base_path)
    scorer = HMRScorer(ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4))
    scorer.body_signature = body_signature(body)
    scorer_path = folder / "scorer"
    scorer.save(scorer_path)
    return base_path, scorer_path
