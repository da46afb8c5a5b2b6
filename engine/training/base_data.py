"""What base-model training reads: records with the detector's outputs, the labels'
normaliser, and crops blanked at random."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from engine.data.augment import camera_for_crop, flip_camera, flip_pose
from engine.data.crops import DEFAULT_BOX_SCALE, CropTransform
from engine.data.detector_cache import DatasetDetections, concat_detections, detections_for
from engine.data.records import PersonSample
from engine.errors import DataError
from engine.models.param_layout import Normalizer, ParamLayout

log = logging.getLogger(__name__)

NORMALIZER_MIN_STD = 0.02
NORMALIZER_MAX_RECORDS = 20000


def load_training_records(
    paths: Sequence[str], image_root: str | None, with_detections: bool
) -> tuple[list[PersonSample], DatasetDetections | None]:
    """The records of ``paths`` and, when asked, the detector's outputs for them
    (each source's own: ``engine.data.detector_cache.detections_for``).

    Raises DataError: no usable record, or a source without detector outputs."""
    from engine.data.load import load_dataset

    records: list[PersonSample] = []
    parts: list[DatasetDetections] = []
    # With detections each source is read on its own, to find its own detector outputs.
    sources: list[str | list[str]] = list(paths) if with_detections else [list(paths)]
    for path in sources:
        loaded = load_dataset(path, image_root=image_root)
        for where, why in loaded.rejected[:5]:
            log.warning("skipped %s: %s", where, why)
        records.extend(loaded.records)
        if isinstance(path, str):
            parts.append(detections_for(path, loaded.records))
    if not records:
        raise DataError(f"{', '.join(paths)}: no usable person records")
    return records, concat_detections(parts) if with_detections else None


def blank_images(batch: dict, share: float) -> dict:
    """The batch with a random ``share`` of its crops replaced by a blank one (0 after
    normalisation: the mean colour). A detector-conditioned model trained so cannot lean on
    the renders' look, which a real photo does not share, and must read the detector."""
    image = batch["image"]
    blank = torch.rand(image.shape[0]) < share
    return {**batch, "image": torch.where(blank[:, None, None, None], torch.zeros_like(image), image)}


def fit_normalizer(records: Sequence[PersonSample], layout: ParamLayout, crop_size: int,
                   box_scale: float = DEFAULT_BOX_SCALE, seed: int = 0) -> Normalizer:
    """Per-dimension statistics of the labels, each part over the records that have it.

    Labels are expressed for the upright crop the dataset cuts and for its mirror image
    (flips are half of the training augmentation). Parts no record has stay (0, 1).
    """
    rng = np.random.default_rng(seed)
    idx = np.arange(len(records))
    if len(idx) > NORMALIZER_MAX_RECORDS:
        idx = rng.choice(idx, NORMALIZER_MAX_RECORDS, replace=False)
    rots, betas, cams = [], [], []
    for i in idx:
        r = records[int(i)]
        if r.pose is not None:
            rots += [r.pose, flip_pose(r.pose)]
        if r.betas is not None:
            betas.append(r.betas)
        if r.camera is not None:
            t = CropTransform.for_box(r.box, crop_size, box_scale)
            cam = camera_for_crop(r.camera, *r.crop_square, t.center, t.size)
            cams += [cam, flip_camera(cam)]
    parts = []
    for values, dim, convert in (
        (rots, layout.rot_size, lambda x: layout.from_axis_angle(
            torch.as_tensor(np.stack(x)), torch.zeros(len(x), layout.num_betas),
            torch.zeros(len(x), layout.cam_dim))[:, : layout.rot_size].numpy()),
        (betas, layout.num_betas, np.stack),
        (cams, layout.cam_dim, np.stack),
    ):
        if values:
            n = Normalizer.fit(convert(values), min_std=NORMALIZER_MIN_STD)
            parts.append((n.mean, n.std))
        else:
            parts.append((np.zeros(dim, np.float32), np.ones(dim, np.float32)))
    return Normalizer(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
