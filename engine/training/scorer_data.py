"""Data for scorer training: labelled crops, per-step batches, candidates, a validation set.

Batches are drawn by step number (a seeded permutation per epoch), so a resumed run sees
the same sequence of images and augmentations as one that never stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import DatasetDetections, detections_matching
from engine.data.load import load_dataset
from engine.data.records import PersonSample
from engine.errors import DataError
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import ParamLayout
from engine.models.scorer_parts import resize_crops
from engine.training.candidate_noise import RestRootJoint, candidate_errors, noisy_candidates, pose_candidates

if TYPE_CHECKING:
    from engine.training.scorer_config import ScorerTrainConfig
    from engine.training.scorer_sample_cache import CachedSamples

log = logging.getLogger(__name__)


def labelled_records(path: str, need_camera: bool = True, include_pseudo: bool = True) -> list[PersonSample]:
    """The people of an annotation file that have SMPL pose (and camera) labels.

    include_pseudo: False leaves out labels marked 'pseudo' (predicted by a model, maybe
        wrong): a scorer trained to call them perfect would learn their mistakes.

    Raises:
        DataError: the file is unreadable or has no such person.
    """
    result = load_dataset(path, check_images=True)
    records = [
        r for r in result.records
        if r.pose is not None and (r.camera is not None or not need_camera)
        and (include_pseudo or r.label_kind != "pseudo")
    ]
    what = "SMPL pose and camera labels" if need_camera else "SMPL pose labels"
    if not include_pseudo:
        what = "non-pseudo " + what
    if not records:
        why = f" ({result.rejected[0][0]}: {result.rejected[0][1]})" if result.rejected else ""
        raise DataError(f"{path}: no images with {what}{why}")
    if len(records) < len(result.records):
        log.info("%s: %d of %d people have %s", path, len(records), len(result.records), what)
    return records


class BaseSampler:
    """Hypotheses of a base diffusion model, as raw parameter vectors."""

    def __init__(self, model: DiffusionHMR):
        self.model = model

    @classmethod
    def load(cls, path: str, body, device: torch.device) -> "BaseSampler":
        return cls(DiffusionHMR.load(path, body=body, device=device))

    @property
    def crop_size(self) -> int:
        return self.model.crop_size

    @property
    def detector_inputs(self) -> bool:
        """Whether the base model reads the detector's keypoints and landmarks."""
        return bool(getattr(self.model, "detector_inputs", False))

    def sample(
        self, images: torch.Tensor, keypoints: torch.Tensor, num: int, steps: int, seed: int,
        landmarks: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """images (B, 3, S, S), keypoints (B, 17, 3) (the detector's for a detector-conditioned
        base), landmarks (B, 33, 6) (read only by one) -> (B, num, D) raw vectors."""
        images = resize_crops(images, self.crop_size)
        extra: dict[str, Any] = {"landmarks": landmarks} if self.detector_inputs else {}
        return self.model.sample(images, keypoints, num, steps=steps, seed=seed, **extra).to(images.device)


def needs_detections(config: "ScorerTrainConfig", base: BaseSampler | None) -> bool:
    """Whether the scorer or its base model reads the detector's outputs."""
    return config.detector_inputs or (base is not None and base.detector_inputs)


def record_detections(path: str, records: list[PersonSample], wanted: bool) -> DatasetDetections | None:
    """The detector's outputs for ``records`` read from ``path`` when ``wanted`` (DataError
    naming ``adhmr detect-dataset`` when the file has none), else None."""
    return detections_matching(path, records) if wanted and records else None


@dataclass(frozen=True, eq=False)
class TrainingCandidates:
    """One batch: B crops and K candidates each.

    images: (B, 3, S, S); keypoints: (B, 17, 3) crop coordinates + confidence (the
    detector's for a detector-conditioned scorer, else the labelled ones).
    crop: (B, K, 41, 2); depth: (B, K, 41) (see ``HMRScorer.forward``).
    errors: {'MPJPE', 'PA-MPJPE', 'PVE'}: (B, K) mm.
    landmarks: (B, 33, 6) and points3d: (B, K, 41, 3) (SMPL joints then COCO keypoints,
    metres), only for a detector-conditioned scorer (see ``HMRScorer.logits``).
    """

    images: torch.Tensor
    keypoints: torch.Tensor
    crop: torch.Tensor
    depth: torch.Tensor
    errors: dict[str, torch.Tensor]
    landmarks: torch.Tensor | None = None
    points3d: torch.Tensor | None = None

    def scorer_inputs(self, rows: slice = slice(None)) -> dict[str, Any]:
        """The keyword arguments of ``HMRScorer.logits`` for images ``rows``."""
        pick = (lambda t: None if t is None else t[rows])
        return {"images": self.images[rows], "keypoints": self.keypoints[rows], "cand_joints_crop": self.crop[rows],
                "cand_depth": self.depth[rows], "landmarks": pick(self.landmarks), "points3d": pick(self.points3d)}


def training_candidates(
    batch: dict[str, torch.Tensor],
    body,
    layout: ParamLayout,
    config: "ScorerTrainConfig",
    base: BaseSampler | None,
    generator: torch.Generator,
    base_seed: int = 0,
    cached: "CachedSamples | None" = None,
) -> TrainingCandidates:
    """Ground truth, noisy copies and base samples for a batch of ``PersonCropDataset`` items.

    generator seeds the noise (on the body's device); base_seed the base model's sampler.
    A detector-conditioned scorer or base needs the items' ``cond_keypoints`` and
    ``landmarks`` (a dataset made with ``detections``). cached: take the base candidates
    from a sample cache rather than sampling ``base``.
    """
    dev = body.device
    keep = (batch["has_pose"] > 0) & (batch["has_camera"] > 0)
    if not keep.any():
        raise DataError("a training batch has no image with pose and camera labels")
    images = batch["image"][keep].to(dev)
    keypoints = batch["keypoints"][keep].to(dev)
    detected = batch["cond_keypoints"][keep].to(dev) if "cond_keypoints" in batch else None
    landmarks = batch["landmarks"][keep].to(dev) if "landmarks" in batch else None
    if (detected is None or landmarks is None) and needs_detections(config, base):
        raise DataError("a detector-conditioned scorer or base needs the detector's outputs in each batch")
    pose = batch["pose"][keep].to(dev)
    betas = (batch["betas"] * batch["has_betas"][:, None])[keep].to(dev)
    cam = batch["camera"][keep].to(dev)
    gt = layout.from_axis_angle(pose, betas, cam)
    num_base = config.base_candidates if base is not None else 0
    params = noisy_candidates(gt, config.candidates_per_image - num_base, generator, config.noise, layout)
    if num_base and cached is not None:
        params = torch.cat([params, cached.sample(batch, keep, num_base, base_seed).to(dev)], dim=1)
    elif num_base and base is not None:
        base_kp = detected if base.detector_inputs and detected is not None else keypoints
        sampled = base.sample(images, base_kp, num_base, config.base_steps, base_seed, landmarks=landmarks)
        params = torch.cat([params, sampled], dim=1)
    with torch.no_grad():
        posed = pose_candidates(body, params, layout)
        truth = body(pose, betas, rotation_format="axis_angle")
        errors = candidate_errors(posed.joints, posed.vertices, truth.joints, truth.vertices)
    if not config.detector_inputs or detected is None:
        return TrainingCandidates(images, keypoints, posed.crop, posed.depth, errors)
    points3d = torch.cat([posed.joints, posed.keypoints3d], dim=-2)
    return TrainingCandidates(images, detected, posed.crop, posed.depth, errors, landmarks, points3d)


class _EpochItems(Dataset):
    """Items addressed as (epoch, index), so each epoch draws fresh augmentations."""

    def __init__(self, dataset: PersonCropDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        epoch, index = key
        self.dataset.set_epoch(epoch)
        return self.dataset[index]


class _StepBatches(Sampler):
    """Batches for steps start..steps-1: per epoch a seeded permutation, cut in batches."""

    def __init__(self, n: int, batch: int, seed: int, start: int, steps: int):
        self.n, self.batch, self.seed, self.start, self.steps = n, min(batch, n), seed, start, steps

    def __len__(self) -> int:
        return max(0, self.steps - self.start)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        per_epoch = self.n // self.batch
        perm_epoch, perm = -1, torch.empty(0, dtype=torch.long)
        for step in range(self.start, self.steps):
            epoch, k = divmod(step, per_epoch)
            if epoch != perm_epoch:
                perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 7919 + epoch))
                perm_epoch = epoch
            yield [(epoch, int(i)) for i in perm[k * self.batch : (k + 1) * self.batch]]


class ScorerBatches:
    """The training images, and their batches by step.

    held_out: records kept aside for validation when the config names no ``val`` file.
    """

    def __init__(self, config: "ScorerTrainConfig", body, crop_size: int, detections: bool = False):
        """detections: give each item the detector's outputs (``needs_detections``)."""
        records = labelled_records(config.data, include_pseudo=config.include_pseudo)
        self.held_out: list[PersonSample] = []
        if config.val is None:
            # A tenth, at least 2 and at most val_images, when enough people are left to train.
            hold = min(config.val_images, max(2, len(records) // 10))
            if len(records) >= 2 * hold:
                self.held_out, records = records[-hold:], records[:-hold]
        self.config = config
        self.dataset = PersonCropDataset(
            records, crop_size, train=config.augment, seed=config.seed, root_joint=RestRootJoint(body),
            detections=record_detections(config.data, records, detections),
        )
        log.info("scorer training on %d people, %d held out", len(records), len(self.held_out))

    def iterate(self, start: int) -> Iterator[tuple[int, dict[str, torch.Tensor]]]:
        """(step, batch) for steps start .. config.steps - 1."""
        c = self.config
        loader = DataLoader(
            _EpochItems(self.dataset),
            batch_sampler=_StepBatches(len(self.dataset), c.batch_size, c.seed, start, c.steps),
            num_workers=c.num_workers,
            pin_memory=torch.cuda.is_available(),
        )
        yield from enumerate(loader, start=start)


class ValidationSet:
    """Fixed held-out images with fixed candidates and their true errors.

    candidates: every image's TrainingCandidates in one, on the training device;
    errors: {name: (N, K)} mm on the CPU.
    """

    def __init__(self, candidates: TrainingCandidates, chunk: int):
        self.candidates = candidates
        self.errors = {k: v.cpu() for k, v in candidates.errors.items()}
        self.chunk = chunk

    def chunks(self) -> Iterator[dict[str, Any]]:
        """``HMRScorer.logits`` keyword arguments, ``chunk`` images at a time."""
        for i in range(0, self.candidates.images.shape[0], self.chunk):
            yield self.candidates.scorer_inputs(slice(i, i + self.chunk))

    @classmethod
    def build(
        cls, config: "ScorerTrainConfig", body, crop_size: int, base: BaseSampler | None, held_out: list[PersonSample]
    ) -> "ValidationSet | None":
        if config.val:
            records = labelled_records(config.val, include_pseudo=config.include_pseudo)[: config.val_images]
        else:
            records = held_out
        if not records:
            log.warning("no validation images: scorer quality will not be reported")
            return None
        source = config.val or config.data
        dataset = PersonCropDataset(records, crop_size, train=False, root_joint=RestRootJoint(body),
                                    detections=record_detections(source, records, needs_detections(config, base)))
        generator = torch.Generator(device=body.device).manual_seed(config.seed + 104729)
        parts = []
        for i in range(0, len(dataset), config.batch_size):
            batch = default_collate([dataset[k] for k in range(i, min(i + config.batch_size, len(dataset)))])
            parts.append(training_candidates(batch, body, ParamLayout(), config, base, generator, config.seed + i))
        return cls(concat_candidates(parts), chunk=config.batch_size)


def concat_candidates(parts: list[TrainingCandidates]) -> TrainingCandidates:
    """Batches of candidates joined along the image axis."""
    def cat(name: str) -> Any:
        values = [getattr(p, name) for p in parts]
        return None if values[0] is None else torch.cat(values)

    errors = {k: torch.cat([p.errors[k] for p in parts]) for k in parts[0].errors}
    return TrainingCandidates(cat("images"), cat("keypoints"), cat("crop"), cat("depth"), errors,
                              cat("landmarks"), cat("points3d"))
