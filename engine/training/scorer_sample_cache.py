"""Base-model samples for scorer training, drawn once per training image and cached.

Sampling a base model's candidates on the fly is a third of a scorer training step
(``benchmarks/bench_scorer_step.py``) and is repeated every epoch and every run. A sample
cache holds, per training person, K raw parameter vectors sampled once on the person's
upright, unaugmented crop (the crop's centre and side are stored with them). A training
step takes a random ``base_candidates`` of them and turns them into the augmented crop's
frame (rotation, mirror, scale and shift) the way ``PersonCropDataset`` turns the labels,
so augmentation works as it does with samples drawn on the fly.

The file (``.npz``) records what it was made from: the base checkpoint's SHA-256, the
fingerprint of the people (image and box of each, ``engine.data.detector_cache``), K, the
DDIM steps and the seed. A cache made from anything else is refused rather than misused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch.utils.data import default_collate

from engine.data.augment import camera_for_crop, flip_camera, flip_pose, rotate_camera, rotate_pose
from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import DatasetDetections, fingerprint
from engine.data.records import PersonSample
from engine.errors import DataError
from engine.models.checkpoint import checkpoint_paths
from engine.models.param_layout import ParamLayout
from engine.output_files import atomic_output
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)

CACHE_VERSION = 1
MIN_SCALE = 1e-4
"""Smallest weak-perspective scale a cached sample keeps (see ``CachedSamples.in_crop``)."""


@dataclass(frozen=True, eq=False)
class SampleCache:
    """K base samples of each of N people.

    params: (N, K, D) float32 raw parameter vectors, camera in the frame of each person's
        upright crop; centers: (N, 2) float64 px and sizes: (N,) px, that crop.
    key: what the samples were made from (see the module doc).
    """

    params: np.ndarray
    centers: np.ndarray
    sizes: np.ndarray
    key: dict[str, Any]


def sample_cache_key(base_path: str, records: Sequence[PersonSample], num: int, steps: int, seed: int) -> dict:
    """The key a cache of ``num`` samples per person of ``records`` must carry."""
    weights, _ = checkpoint_paths(base_path)
    h = hashlib.sha256()
    try:
        with open(weights, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise DataError(f"{weights}: cannot read the base checkpoint to key the sample cache ({exc.strerror})") from None
    return {"version": CACHE_VERSION, "base_sha256": h.hexdigest(), "people": len(records),
            "data": fingerprint(records), "samples": int(num), "base_steps": int(steps), "seed": int(seed)}


def build_sample_cache(
    base, records: Sequence[PersonSample], detections: DatasetDetections | None, key: dict, batch_size: int = 8,
    progress: ProgressFn = no_progress, should_cancel: CancelFn = never_cancel,
) -> SampleCache:
    """Sample ``key['samples']`` candidates per person with ``base`` (a ``BaseSampler``)
    on the upright crops; detections: the detector's outputs for a detector-conditioned
    base (None otherwise). should_cancel() is polled between batches (JobCancelled)."""
    dataset = PersonCropDataset(records, base.crop_size, train=False, detections=detections)
    n, num = len(records), int(key["samples"])
    params, centers, sizes = None, np.zeros((n, 2)), np.zeros(n)
    for i in range(0, n, batch_size):
        check_cancel(should_cancel)
        batch = default_collate([dataset[k] for k in range(i, min(i + batch_size, n))])
        kp = batch["cond_keypoints"] if base.detector_inputs else batch["keypoints"]
        drawn = base.sample(batch["image"], kp, num, key["base_steps"], key["seed"] + i,
                            landmarks=batch.get("landmarks")).float().cpu().numpy()
        if params is None:
            params = np.zeros((n, num, drawn.shape[-1]), np.float32)
        params[i : i + len(drawn)] = drawn
        centers[i : i + len(drawn)] = batch["crop_center"].numpy()
        sizes[i : i + len(drawn)] = batch["crop_size"].numpy()
        done = min(i + batch_size, n)
        progress(ProgressEvent(done / n, f"base samples: {done}/{n} people"))
    if params is None:
        raise DataError("no people to sample base candidates for")
    return SampleCache(params, centers, sizes, key)


def save_sample_cache(path: str | Path, cache: SampleCache) -> Path:
    """Write ``cache`` to ``path`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, "wb") as f:
        np.savez(f, params=cache.params, centers=cache.centers, sizes=cache.sizes, key=np.array(json.dumps(cache.key)))
    return path


def load_sample_cache(path: str | Path, key: dict) -> SampleCache:
    """Read a cache and check it was made with ``key``.

    Raises DataError: unreadable, malformed, or made from another base checkpoint, other
    people or other sampling settings (the message names the first difference).
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            stored = json.loads(str(z["key"]))
            cache = SampleCache(np.asarray(z["params"], np.float32), np.asarray(z["centers"], np.float64),
                                np.asarray(z["sizes"], np.float64), stored)
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path}: not a scorer sample cache ({exc})") from None
    for name in key:
        if stored.get(name) != key[name]:
            raise DataError(f"{path}: made with {name}={stored.get(name)!r}, this run needs {key[name]!r}; "
                            "delete it or name another --sample-cache file")
    n, k = int(key["people"]), int(key["samples"])
    if (cache.params.shape[:2] != (n, k) or cache.centers.shape != (n, 2) or cache.sizes.shape != (n,)
            or not np.isfinite(cache.params).all()):
        raise DataError(f"{path}: params {cache.params.shape} do not hold {k} finite samples of {n} people")
    return cache


def load_or_build_sample_cache(
    path: str | Path, base, records: Sequence[PersonSample], detections: DatasetDetections | None, key: dict,
    batch_size: int = 8, progress: ProgressFn = no_progress, should_cancel: CancelFn = never_cancel,
) -> SampleCache:
    """The cache at ``path``; made (and written) first when there is none."""
    path = Path(path)
    if path.is_file():
        cache = load_sample_cache(path, key)
        log.info("%s: %d base samples of each of %d people", path, cache.params.shape[1], cache.params.shape[0])
        return cache
    log.info("sampling %d base candidates of each of %d people into %s", key["samples"], len(records), path)
    cache = build_sample_cache(base, records, detections, key, batch_size, progress, should_cancel)
    save_sample_cache(path, cache)
    return cache


class CachedSamples:
    """Draws a batch's base candidates from a :class:`SampleCache`.

    root_joint: betas (10,) -> rest-pose pelvis (3,) metres (``RestRootJoint``), to turn
    the cameras of rotated crops as the dataset does.
    """

    def __init__(self, cache: SampleCache, root_joint: Callable[[np.ndarray], np.ndarray],
                 layout: ParamLayout = ParamLayout()):
        self.cache, self.root_joint, self.layout = cache, root_joint, layout

    def sample(self, batch: dict[str, torch.Tensor], keep: torch.Tensor, num: int, seed: int) -> torch.Tensor:
        """(B', num, D) raw vectors for the kept items of a ``PersonCropDataset`` batch (their
        ``index``, ``crop_center``, ``crop_size``, ``crop_rotation``, ``crop_flip``), in each
        item's crop frame; a seeded random ``num`` of each person's cached samples."""
        g = torch.Generator().manual_seed(int(seed))
        total = self.cache.params.shape[1]
        if num > total:
            raise DataError(f"the sample cache holds {total} samples a person, {num} asked for")
        rows = []
        for b in torch.nonzero(keep).flatten().tolist():
            index = int(batch["index"][b])
            pick = torch.randperm(total, generator=g)[:num].numpy()
            rows.append(self.in_crop(self.cache.params[index, pick], index, batch["crop_center"][b].numpy(),
                                     float(batch["crop_size"][b]), float(batch["crop_rotation"][b]),
                                     bool(batch["crop_flip"][b])))
        return torch.from_numpy(np.stack(rows))

    def in_crop(self, params: np.ndarray, index: int, center: np.ndarray, size: float, rotation: float,
                flip: bool) -> np.ndarray:
        """(K, D) cached vectors of person ``index`` -> the same bodies in the crop
        (center px, size px, rotation degrees, flip), as the dataset turns labels."""
        pose, betas, cam = (t.numpy().copy() for t in self.layout.to_axis_angle(torch.from_numpy(params)))
        # A sample with scale s = 0 projects to a point, wherever the crop is; the shift
        # of a moved crop divides by s, so such junk samples keep a tiny positive s.
        cam[:, 0] = np.where(np.abs(cam[:, 0]) < MIN_SCALE, MIN_SCALE, cam[:, 0])
        out_pose, out_cam = np.empty_like(pose), np.empty_like(cam)
        for k in range(len(params)):
            p = rotate_pose(pose[k], rotation) if rotation else pose[k]
            out_pose[k] = flip_pose(p) if flip else p
            c = camera_for_crop(cam[k], self.cache.centers[index], float(self.cache.sizes[index]), center, size)
            if rotation:
                c = rotate_camera(c, rotation, self.root_joint(betas[k]))
            out_cam[k] = flip_camera(c) if flip else c
        joined = self.layout.from_axis_angle(torch.from_numpy(out_pose), torch.from_numpy(betas),
                                             torch.from_numpy(out_cam))
        return joined.numpy().astype(np.float32)
