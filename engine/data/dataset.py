"""A torch Dataset of square person crops with their labels in crop terms."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from engine.data.augment import (
    AugmentConfig, AugmentParams, apply_color, apply_occluder, augment_rng,
    camera_for_crop, flip_camera, flip_joints3d, flip_pose, jitter_transform, rotate_camera,
    rotate_joints3d, rotate_pose, sample_params,
)
from engine.data.crops import DEFAULT_BOX_SCALE, CropTransform, crop_image, transform_keypoints
from engine.data.detector_cache import DatasetDetections
from engine.data.landmark_tokens import landmark_tokens, turn_tokens
from engine.data.records import PersonSample
from engine.errors import DataError
from engine.image_io import load_image

# ImageNet statistics of RGB values in [0, 1], what pretrained image encoders expect.
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)
# Share of training items whose detector outputs are withheld (read as 'not found'), and
# the random stream that decides it (apart from the image augmentation's own draws).
MISSED_RATE = 0.05
MISSED_STREAM = 7


def normalise_image(crop: np.ndarray) -> torch.Tensor:
    """(S, S, 3) uint8 RGB to (3, S, S) float32, (x / 255 - mean) / std per channel."""
    x = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1).float() / 255.0
    mean = torch.tensor(IMAGE_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGE_STD).view(3, 1, 1)
    return (x - mean) / std


def denormalise_image(image: torch.Tensor) -> np.ndarray:
    """Inverse of normalise_image: (3, S, S) float to (S, S, 3) uint8 (for display)."""
    mean = torch.tensor(IMAGE_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGE_STD).view(3, 1, 1)
    x = (image.detach().cpu().float() * std + mean).clamp(0, 1) * 255.0
    return x.round().byte().permute(1, 2, 0).numpy()


class PersonCropDataset(Dataset):
    """Crops of the records' people, augmented when training.

    Each item is a dict of tensors (float32 unless noted):

    image: (3, S, S) normalised with IMAGE_MEAN / IMAGE_STD.
    keypoints: (17, 3) COCO-17 in normalised crop coordinates [-1, 1] + confidence,
        zero confidence for points that fall outside the crop.
    crop_center: (2,) px and crop_size: () px, the crop in the full image;
        crop_rotation: () degrees and crop_flip: () 0/1 (see ``crops``).
    pose: (72,) SMPL axis-angle, global orientation turned/mirrored with the crop;
        zeros when the record has none (has_pose 0). betas: (10,), has_betas.
    camera: (3,) weak-perspective (s, tx, ty) for this crop, has_camera.
    joints3d: (24, 4) SPIN-24 metres + confidence, turned/mirrored with the crop,
        has_joints3d.
    index: () int64, the record's position.
    image_<S2>: (3, S2, S2) the same crop at each size S2 of ``also_sizes``.
    cond_keypoints: (17, 3) and landmarks: (33, 6), only with ``detections``: the
        detector's keypoints in crop terms and its landmark tokens
        (``engine.data.landmark_tokens``), turned and mirrored with the crop; zeros
        where the detector found nobody.

    Args:
        records: the people.
        out_size: crop side S in pixels.
        train: augment (with ``augment``, or AugmentConfig() when it is None).
        augment: the augmentation; ignored unless ``train``.
        seed: base of the per-sample random streams (see ``augment.augment_rng``).
        box_scale: crop side = longer box side * box_scale.
        root_joint: maps betas (10,) to the body's rest-pose root joint (3,) metres (from
            the body model). Turning a crop moves a weak-perspective camera by an amount
            that depends on it; without it, samples turned by augmentation have
            has_camera 0 rather than a wrong camera.
        also_sizes: more crop sides to cut from the same read of each image (a base model
            and a scorer with different input sizes); not with ``train``.
        detections: the detector's outputs for the records
            (``engine.data.detector_cache``), for detector-conditioned models.

    Raises (from __getitem__):
        ImageError: a record's image is missing or unreadable.
    """

    def __init__(
        self,
        records: Sequence[PersonSample],
        out_size: int = 128,
        train: bool = False,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        box_scale: float = DEFAULT_BOX_SCALE,
        root_joint: Callable[[np.ndarray], np.ndarray] | None = None,
        also_sizes: Sequence[int] = (),
        detections: DatasetDetections | None = None,
    ) -> None:
        self.records = list(records)
        if detections is not None and len(detections) != len(self.records):
            raise DataError(f"detections: {len(detections)} rows for {len(self.records)} records")
        self.detections = detections
        for i, r in enumerate(self.records):
            if not isinstance(r, PersonSample):
                raise DataError(f"records[{i}]: expected a PersonSample, got {type(r).__name__}")
        if not box_scale > 0:
            raise DataError(f"box_scale: must be > 0, got {box_scale}")
        self.out_size = int(out_size)
        self.train = train
        self.augment = (augment or AugmentConfig()) if train else None
        self.seed = int(seed)
        self.box_scale = float(box_scale)
        self.root_joint = root_joint
        self.also_sizes = tuple(int(size) for size in also_sizes)
        if train and self.also_sizes:
            raise DataError("also_sizes: extra crop sizes are for evaluation; augmentation draws one crop")
        if any(size < 1 for size in self.also_sizes):
            raise DataError(f"also_sizes: crop sides must be >= 1 px, got {self.also_sizes}")
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw the next epoch's augmentations (call before iterating a new DataLoader)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.records)

    def crop_for(self, index: int) -> tuple[CropTransform, AugmentParams | None]:
        """The crop of item ``index`` in this epoch, and its augmentation draw."""
        record = self.records[index]
        t = CropTransform.for_box(record.box, self.out_size, self.box_scale)
        if self.augment is None:
            return t, None
        params = sample_params(self.augment, augment_rng(self.seed, index, self.epoch))
        return jitter_transform(t, params), params

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        record = self.records[index]
        t, params = self.crop_for(index)
        image = load_image(record.image_path)
        crop = crop_image(image, t)
        if params is not None:
            crop = apply_occluder(apply_color(crop, params), params)
        item = {
            "image": normalise_image(crop),
            "keypoints": torch.from_numpy(transform_keypoints(record.keypoints, t)),
            "crop_center": torch.tensor(t.center, dtype=torch.float32),
            "crop_size": torch.tensor(t.size, dtype=torch.float32),
            "crop_rotation": torch.tensor(t.rotation, dtype=torch.float32),
            "crop_flip": torch.tensor(float(t.flip)),
            "index": torch.tensor(index, dtype=torch.int64),
        }
        for size in self.also_sizes:
            same = CropTransform(t.center, t.size, size, t.rotation, t.flip)
            item[f"image_{size}"] = normalise_image(crop_image(image, same))
        item.update(self._labels(record, t))
        if self.detections is not None:
            item.update(self._detector_inputs(index, t))
        return item

    def _detector_inputs(self, index: int, t: CropTransform) -> dict[str, torch.Tensor]:
        d = self.detections
        assert d is not None
        found = bool(d.found[index])
        if self.augment is not None and found:
            # Now and then train as if the detector had missed the person, so the model
            # keeps a sensible answer for photos whose people have no detector outputs.
            found = bool(np.random.default_rng([self.seed, self.epoch, index, MISSED_STREAM]).random() >= MISSED_RATE)
        keypoints = d.keypoints[index] if found else np.zeros((17, 3), np.float32)
        tokens = landmark_tokens(d.world_landmarks[index], d.landmark_visibility[index],
                                 d.landmark_presence[index]) if found else landmark_tokens(None, None, None)
        return {
            "cond_keypoints": torch.from_numpy(transform_keypoints(keypoints, t)),
            "landmarks": torch.from_numpy(turn_tokens(tokens, t.rotation, t.flip)),
        }

    def _labels(self, record: PersonSample, t: CropTransform) -> dict[str, torch.Tensor]:
        turned = t.rotation != 0.0
        pose = record.pose
        if pose is not None:
            pose = rotate_pose(pose, t.rotation) if turned else pose
            pose = flip_pose(pose) if t.flip else pose
        joints = record.joints3d
        if joints is not None:
            joints = rotate_joints3d(joints, t.rotation) if turned else joints
            joints = flip_joints3d(joints) if t.flip else joints
        cam = record.camera
        if cam is not None:
            center, side = record.crop_square
            cam = camera_for_crop(cam, center, side, t.center, t.size)
            if turned:
                if self.root_joint is None:
                    cam = None
                else:
                    betas = record.betas if record.betas is not None else np.zeros(10, np.float32)
                    cam = rotate_camera(cam, t.rotation, self.root_joint(betas))
            if cam is not None and t.flip:
                cam = flip_camera(cam)
        return {
            **_optional("pose", pose, (72,)),
            **_optional("betas", record.betas, (10,)),
            **_optional("camera", cam, (3,)),
            **_optional("joints3d", joints, (24, 4)),
        }


def _optional(name: str, value: np.ndarray | None, shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
    has = value is not None
    v = torch.from_numpy(np.asarray(value, np.float32).copy()) if has else torch.zeros(shape)
    return {name: v, f"has_{name}": torch.tensor(float(has))}
