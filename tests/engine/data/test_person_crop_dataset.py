"""PersonCropDataset: items a model can train on, labels that match the crop."""

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from engine.body.projection import crop_to_image, project_weak_perspective
from engine.data.augment import AugmentConfig
from engine.data.dataset import PersonCropDataset, denormalise_image
from engine.data.joint_sets import COCO17_FLIP, COCO17_FROM_SPIN24, SPIN24_FROM_SMPL24
from engine.data.records import PersonSample
from engine.errors import ImageError
from engine.image_io import save_image
from test_augment import forward_kinematics, symmetric_rest

SPIN_JOINT = np.array(COCO17_FROM_SPIN24)
SMPL_OF_COCO = np.array([SPIN24_FROM_SMPL24[k] for k in COCO17_FROM_SPIN24])
BODY_JOINTS = np.flatnonzero(SMPL_OF_COCO >= 0)  # the 12 limb joints SMPL has

COLOURS = np.array([[(37 * i) % 256, (91 * i + 40) % 256, 255 - 13 * i] for i in range(17)], np.uint8)
GEOMETRY_ONLY = AugmentConfig(scale_jitter=0.2, translation_jitter=0.05, rotation_std=30, rotation_prob=1.0,
                              flip_prob=0.5, color_jitter=0.0, occlusion_prob=0.0)


@pytest.fixture
def painted(tmp_path):
    """A photo with a coloured dot at each keypoint, and its record."""
    grid = np.stack([120 + 22.0 * (np.arange(17) % 5), 70 + 25.0 * (np.arange(17) // 5)], 1)
    kp = np.c_[grid + np.random.default_rng(0).integers(-3, 4, (17, 2)), np.ones(17)]
    image = np.zeros((240, 320, 3), np.uint8)
    for (x, y, _), colour in zip(kp, COLOURS):
        cv2.circle(image, (int(x), int(y)), 4, colour.tolist(), -1)
    save_image(tmp_path / "painted.png", image)
    return PersonSample(str(tmp_path / "painted.png"), [100, 50, 220, 190], kp)


def test_items_have_the_documented_shapes_and_flags(painted):
    bare = painted.replace(keypoints=np.zeros((17, 3)))
    full = painted.replace(pose=np.ones(72), betas=np.ones(10), camera=[1, 0, 0], joints3d=np.ones((24, 4)))
    ds = PersonCropDataset([bare, full], out_size=64)
    batch = next(iter(DataLoader(ds, batch_size=2)))
    shapes = {k: tuple(v.shape) for k, v in batch.items()}
    assert shapes == {
        "image": (2, 3, 64, 64), "keypoints": (2, 17, 3), "crop_center": (2, 2), "crop_size": (2,),
        "crop_rotation": (2,), "crop_flip": (2,), "index": (2,), "pose": (2, 72), "has_pose": (2,),
        "betas": (2, 10), "has_betas": (2,), "camera": (2, 3), "has_camera": (2,),
        "joints3d": (2, 24, 4), "has_joints3d": (2,),
    }
    assert batch["image"].dtype == torch.float32 and batch["index"].tolist() == [0, 1]
    for name in ("pose", "betas", "camera", "joints3d"):
        assert batch[f"has_{name}"].tolist() == [0.0, 1.0] and batch[name][0].abs().sum() == 0
    assert batch["crop_size"][0] == pytest.approx(140 * 1.2)
    assert batch["crop_center"][0].tolist() == [160, 120]


@pytest.mark.parametrize("train", [False, True])
def test_each_keypoint_lands_on_its_own_dot_in_the_crop(painted, train):
    ds = PersonCropDataset([painted], out_size=96, train=train, augment=GEOMETRY_ONLY, seed=5)
    flips = []
    for epoch in range(6):
        ds.set_epoch(epoch)
        item = ds[0]
        crop = denormalise_image(item["image"]).astype(int)
        flipped = bool(item["crop_flip"])
        flips.append(flipped)
        for j, (x, y, c) in enumerate(item["keypoints"].numpy()):
            if c == 0:
                continue
            px = np.rint((np.array([x, y]) + 1) * 96 / 2 - 0.5).astype(int)
            source = COCO17_FLIP[j] if flipped else j
            assert np.abs(crop[px[1], px[0]] - COLOURS[source]).max() <= 12, (epoch, j)
    assert not train or (any(flips) and not all(flips))


def test_augmentation_is_reproducible_and_changes_with_the_epoch(painted):
    ds = PersonCropDataset([painted], out_size=48, train=True, seed=1)
    a, b = ds[0], ds[0]
    assert all(torch.equal(a[k], b[k]) for k in a)
    ds.set_epoch(1)
    assert not torch.equal(ds[0]["image"], a["image"])
    assert torch.equal(PersonCropDataset([painted], out_size=48, train=True, seed=1)[0]["image"], a["image"])
    plain = PersonCropDataset([painted], out_size=48)
    assert plain[0]["crop_rotation"] == 0 and plain[0]["crop_flip"] == 0


def _body_record(path, rng):
    rest = symmetric_rest(rng)
    pose = rng.normal(scale=0.3, size=72)
    pose[:3] = [np.pi, 0.1, 0.05]
    box = np.array([90.0, 40.0, 230.0, 200.0])
    center, side = box.reshape(2, 2).mean(0), 160.0
    cam = np.array([1.6, 0.02, 0.1])
    joints = forward_kinematics(pose, rest)
    xy = project_weak_perspective(torch.tensor(joints)[None], torch.tensor(cam)[None])
    uv = crop_to_image(xy, torch.tensor(center)[None], torch.tensor([side], dtype=torch.float64))[0].numpy()
    kp = np.zeros((17, 3))
    kp[BODY_JOINTS, :2] = uv[SMPL_OF_COCO[BODY_JOINTS]]
    kp[BODY_JOINTS, 2] = 1
    return PersonSample(str(path), box, kp, pose=pose, betas=np.zeros(10), camera=cam), rest


def test_pose_and_camera_project_onto_the_augmented_keypoints(tmp_path):
    save_image(tmp_path / "blank.png", np.zeros((240, 320, 3), np.uint8))
    record, rest = _body_record(tmp_path / "blank.png", np.random.default_rng(3))
    ds = PersonCropDataset([record], out_size=64, train=True, augment=GEOMETRY_ONLY,
                           root_joint=lambda betas: rest[0])
    seen = set()
    for epoch in range(8):
        ds.set_epoch(epoch)
        item = ds[0]
        seen.add(bool(item["crop_flip"]))
        assert item["has_camera"] == 1
        joints = forward_kinematics(item["pose"].double().numpy(), rest)
        xy = project_weak_perspective(torch.tensor(joints)[None], item["camera"].double()[None])[0].numpy()
        np.testing.assert_allclose(xy[SMPL_OF_COCO[BODY_JOINTS]], item["keypoints"][BODY_JOINTS, :2], atol=1e-4)
    assert seen == {False, True}


def test_a_turned_crop_without_the_root_joint_drops_the_camera(tmp_path):
    save_image(tmp_path / "blank.png", np.zeros((240, 320, 3), np.uint8))
    record, _ = _body_record(tmp_path / "blank.png", np.random.default_rng(4))
    item = PersonCropDataset([record], train=True, augment=GEOMETRY_ONLY)[0]
    assert item["crop_rotation"] != 0 and item["has_camera"] == 0 and item["has_pose"] == 1


def test_a_missing_image_raises_an_image_error_naming_it(tmp_path):
    record = PersonSample(str(tmp_path / "gone.png"), [0, 0, 10, 10], np.zeros((17, 3)))
    with pytest.raises(ImageError, match="gone.png"):
        PersonCropDataset([record])[0]


def test_extra_crop_sizes_come_from_the_same_read(painted, monkeypatch):
    from engine.data import dataset as dataset_module
    from engine.errors import DataError

    reads = []
    real_load = dataset_module.load_image
    monkeypatch.setattr(dataset_module, "load_image", lambda path: reads.append(path) or real_load(path))
    item = PersonCropDataset([painted], out_size=64, also_sizes=(96,))[0]
    assert len(reads) == 1 and item["image"].shape == (3, 64, 64)
    alone = PersonCropDataset([painted], out_size=96)[0]
    assert torch.equal(item["image_96"], alone["image"])
    # Keypoints stay in the shared normalised crop coordinates.
    assert torch.equal(item["keypoints"], alone["keypoints"])
    with pytest.raises(DataError, match="augmentation"):
        PersonCropDataset([painted], out_size=64, train=True, also_sizes=(96,))
