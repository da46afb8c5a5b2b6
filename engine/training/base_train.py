"""Training the diffusion HMR base model.

AdamW with linear warm-up and cosine decay, an exponential moving average (EMA) of the
weights that is what gets saved and evaluated, optional mixed precision, CUDA when
there is one, several GPUs or processes through ``torchrun`` (DDP, see
:mod:`engine.training.distributed`). Checkpoints are written atomically every
``save_every`` steps and at the end: ``OUT.safetensors`` + ``OUT.json`` (the EMA model,
loadable with ``DiffusionHMR.load``) and ``OUT.train.pt`` (model, EMA, optimiser,
scheduler, step) from which ``resume`` continues. The random draws of step k (timesteps,
noise) are seeded from (seed, rank, k) and each epoch's order and augmentation from
(seed, epoch), so a resumed run repeats the uninterrupted one.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from engine.body.model import BodyModel
from engine.data.dataset import PersonCropDataset
from engine.training.base_data import blank_images, fit_normalizer, load_training_records
from engine.errors import CheckpointError, DataError, JobCancelled
from engine.metrics import mpjpe
from engine.models.checkpoint import checkpoint_paths
from engine.models.diffusion_hmr import ARCH_DEFAULTS, DiffusionHMR
from engine.models.param_layout import Normalizer, ParamLayout
from engine.params import SEED_MAX, check_fields, param
from engine.progress import CancelFn, ProgressEvent, ProgressFn, never_cancel, no_progress
from engine.training.distributed import (
    DistInfo, ResumableSampler, all_reduce_mean, any_process, init_distributed, shutdown_distributed, wait_for_all,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BaseTrainConfig:
    """Settings of one base-model training run.

    data / val: annotation files or folders (anything ``engine.data.load.load_dataset``
    reads). out: checkpoint stem (OUT.safetensors, OUT.json, OUT.train.pt).
    device: 'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ...
    amp: mixed precision (bf16 where supported, else fp16 with loss scaling).
    """

    data: tuple[str, ...] = field(metadata=param("annotation files or folders to train on"))
    out: str = field(metadata=param("checkpoint path stem"))
    val: tuple[str, ...] = field(default=(), metadata=param("validation annotation files"))
    image_root: str | None = field(default=None, metadata=param("folder the files' image names are relative to"))
    steps: int = field(default=20000, metadata=param("optimiser steps", ge=1))
    batch_size: int = field(default=32, metadata=param("people per step and process", ge=1))
    lr: float = field(default=3e-4, metadata=param("learning rate", gt=0))
    weight_decay: float = field(default=0.01, metadata=param("AdamW weight decay", ge=0))
    warmup_steps: int = field(default=500, metadata=param("steps of linear learning-rate warm-up", ge=0))
    grad_clip: float = field(default=1.0, metadata=param("clip the gradient norm to this (0: no clipping)", ge=0))
    ema_decay: float = field(default=0.999, metadata=param("EMA of the weights, which is saved (0: off)", ge=0,
                                                           lt=1))
    crop_size: int = field(default=128, metadata=param("crop side in pixels", ge=1))
    width: int = field(default=128, metadata=param("transformer width", ge=1))
    layers: int = field(default=4, metadata=param("transformer layers", ge=1))
    heads: int = field(default=4, metadata=param("attention heads", ge=1))
    mlp_ratio: float = field(default=2.0, metadata=param("MLP width / transformer width", gt=0))
    augment: bool = field(default=True, metadata=param("flips, rotations, scale and colour jitter"))
    image_dropout: float = field(default=0.0, metadata=param(
        "share of training people shown a blank crop, so the model also answers from the detector's outputs alone",
        ge=0, lt=1))
    detector_inputs: bool = field(default=False, metadata=param(
        "also read the pose detector's world landmarks and detected keypoints (needs `adhmr detect-dataset`)"))
    workers: int = field(default=2, metadata=param("data loading processes", ge=0))
    amp: bool = field(default=False, metadata=param("mixed precision"))
    device: str = field(default="auto", metadata=param("auto (CUDA when available), cpu, cuda, cuda:1, ..."))
    seed: int = field(default=0, metadata=param("random seed", ge=0, le=SEED_MAX))
    resume: bool = field(default=False, metadata=param("continue from OUT.train.pt"))
    init: str | None = field(default=None, metadata=param(
        "start from this base checkpoint's weights (its architecture and normaliser), with a fresh schedule"))
    save_every: int = field(default=1000, metadata=param("save the training state every this many steps", ge=1))
    log_every: int = field(default=10, metadata=param("log every this many steps", ge=1))
    val_every: int = field(default=1000, metadata=param("validate every this many steps", ge=1))
    val_batches: int = field(default=8, metadata=param("validation batches", ge=1))
    body_model: str | None = field(default=None, metadata=param("body model file (default: the bundled one)"))
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("data", "val"):
            paths = getattr(self, name)
            paths = [paths] if isinstance(paths, (str, os.PathLike)) else paths
            object.__setattr__(self, name, tuple(str(p) for p in paths))
        check_fields(self, "train-base")

    def architecture(self) -> dict[str, Any]:
        return {"crop_size": self.crop_size, "width": self.width, "layers": self.layers,
                "heads": self.heads, "mlp_ratio": self.mlp_ratio, "detector_inputs": self.detector_inputs}


def train_state_path(out: str | Path) -> Path:
    """Where the resumable training state of checkpoint ``out`` lives."""
    stem = checkpoint_paths(out)[0].with_suffix("")
    return stem.with_name(stem.name + ".train.pt")


def root_joint_fn(body: BodyModel):
    """betas (10,) -> the body's rest-pose root joint (3,) metres, for crop rotation."""
    j0 = body.J_regressor[0].detach().cpu().double().numpy()
    offset = j0 @ body.v_template.detach().cpu().double().numpy()
    dirs = np.einsum("v,vck->ck", j0, body.shapedirs.detach().cpu().double().numpy())
    return lambda betas: (offset + dirs @ np.asarray(betas, np.float64)).astype(np.float32)


class EMA:
    """Exponential moving average of a model's weights (warm-up: decay <= (1+k)/(10+k))."""

    def __init__(self, model: DiffusionHMR, decay: float):
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        for e, p in zip(self.module.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1.0 - d)
        for eb, b in zip(self.module.buffers(), model.buffers()):
            eb.copy_(b)


def warmup_cosine(warmup: int, total: int):
    """LambdaLR factor: linear from 0 over ``warmup`` steps, then cosine to 0 at ``total``."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return factor


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """No decay on biases, norms and embeddings (the 1-D and position parameters)."""
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "pos" not in name and "joint" not in name else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _dataset(config: BaseTrainConfig, paths: tuple[str, ...], train: bool, body: BodyModel) -> PersonCropDataset:
    records, detections = load_training_records(paths, config.image_root, config.detector_inputs)
    return PersonCropDataset(records, out_size=config.crop_size, train=train and config.augment,
                             seed=config.seed, root_joint=root_joint_fn(body), detections=detections)


def _autocast(config: BaseTrainConfig, device: torch.device):
    if not config.amp:
        return torch.autocast(device.type, enabled=False), False
    bf16 = device.type == "cpu" or torch.cuda.is_bf16_supported()
    return torch.autocast(device.type, dtype=torch.bfloat16 if bf16 else torch.float16), not bf16


def train_base(
    config: BaseTrainConfig,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    train_data: PersonCropDataset | None = None,
    val_data: PersonCropDataset | None = None,
) -> Path:
    """Train (or resume) a base model; returns the checkpoint's weights path.

    train_data / val_data: datasets to use instead of loading ``config.data`` /
    ``config.val`` (the normaliser is fitted on ``train_data.records``).
    Raises DataError (no data), CheckpointError (resume without a state), JobCancelled
    (after saving a checkpoint to resume from).
    """
    info = init_distributed(config.device)
    try:
        weights = _Trainer(config, info, progress, should_cancel, train_data, val_data).run()
        wait_for_all(info)
        return weights
    finally:
        shutdown_distributed(info)


class _Trainer:
    def __init__(self, config: BaseTrainConfig, info: DistInfo, progress: ProgressFn, should_cancel: CancelFn,
                 train_data: PersonCropDataset | None, val_data: PersonCropDataset | None):
        self.config, self.info = config, info
        self.progress = progress if info.is_main else no_progress
        self.should_cancel = should_cancel
        device = info.device
        self.body = BodyModel(config.body_model, device=device)
        self.train_data = train_data or _dataset(config, config.data, True, self.body)
        self.val_data = val_data or (_dataset(config, config.val, False, self.body) if config.val else None)
        if len(self.train_data) < config.batch_size * info.world_size:
            raise DataError(f"train-base: {len(self.train_data)} records, fewer than one batch of "
                            f"{config.batch_size} x {info.world_size} processes")
        self.state_path = train_state_path(config.out)
        state = self._read_state() if config.resume else None
        layout = ParamLayout()
        start = None
        if state is None and config.init:
            # A fresh schedule from a trained model: its architecture and normaliser, its weights.
            start = DiffusionHMR.load(config.init, body=self.body, device=device)
            if start.crop_size != config.crop_size or start.detector_inputs != config.detector_inputs:
                raise CheckpointError(
                    f"{config.init}: reads {start.crop_size} px crops{' and the detector' * start.detector_inputs}; "
                    f"train it with --crop-size {start.crop_size}{' --detector-inputs' * start.detector_inputs}")
            normalizer, arch = start.normalizer, {k: start.config[k] for k in ARCH_DEFAULTS}
        elif state is None:
            normalizer = fit_normalizer(self.train_data.records, layout, config.crop_size, seed=config.seed)
            arch = config.architecture()
        else:
            normalizer = Normalizer.from_dict(state["normalizer"], layout.dim)
            arch = state["arch"]
        torch.manual_seed(config.seed)
        self.model = DiffusionHMR(arch, normalizer, self.body, layout).to(device)
        if start is not None:
            self.model.load_state_dict(start.state_dict())
        self.ema = EMA(self.model, config.ema_decay)
        self.optimizer = torch.optim.AdamW(_param_groups(self.model, config.weight_decay), lr=config.lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, warmup_cosine(min(config.warmup_steps, config.steps // 10), config.steps))
        self.autocast, fp16 = _autocast(config, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=fp16)
        self.step = 0
        if state is not None:
            self.model.load_state_dict(state["model"])
            self.ema.module.load_state_dict(state["ema"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.scaler.load_state_dict(state["scaler"])
            self.step = int(state["step"])
            log.info("resuming %s at step %d", self.state_path, self.step)
        self.net: torch.nn.Module = self.model
        if info.distributed:
            ids = [device.index] if device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    def _read_state(self) -> dict:
        if not self.state_path.is_file():
            raise CheckpointError(f"{self.state_path}: no training state to resume from")
        try:
            return torch.load(self.state_path, map_location=self.info.device, weights_only=True)
        except Exception as exc:  # untrusted bytes: the unpickler raises many types
            raise CheckpointError(f"{self.state_path}: unreadable training state ({type(exc).__name__})") from None

    def run(self) -> Path:
        cfg = self.config
        sampler = ResumableSampler(len(self.train_data), self.info, cfg.batch_size, cfg.seed)
        per_epoch = sampler.batches_per_epoch
        weights = checkpoint_paths(cfg.out)[0]
        mark = (time.perf_counter(), self.step)
        while self.step < cfg.steps:
            epoch, start = divmod(self.step, per_epoch)
            sampler.set_position(epoch, start)
            self.train_data.set_epoch(epoch)
            loader = DataLoader(
                self.train_data, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.workers,
                drop_last=True, pin_memory=self.info.device.type == "cuda",
                generator=torch.Generator().manual_seed(cfg.seed))
            for batch in loader:
                if any_process(self.should_cancel(), self.info):
                    self._save()
                    raise JobCancelled(f"training cancelled at step {self.step}; its state is saved, "
                                       "a resume carries on from there")
                logs = self._train_step(batch)
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    logs = all_reduce_mean(logs, self.info)
                    logs["lr"] = float(self.scheduler.get_last_lr()[0])
                    logs["sec_per_step"] = (time.perf_counter() - mark[0]) / (self.step - mark[1])
                    mark = (time.perf_counter(), self.step)
                    self._report(logs)
                if self.val_data is not None and (self.step % cfg.val_every == 0 or self.step == cfg.steps):
                    self._report(self.validate())
                if self.step % cfg.save_every == 0 or self.step == cfg.steps:
                    self._save()
                if self.step >= cfg.steps:
                    break
        return weights

    def _train_step(self, batch: dict) -> dict[str, float]:
        cfg, info = self.config, self.info
        torch.manual_seed(cfg.seed * 1_000_003 + self.step * 1009 + info.rank)
        self.model.train()
        if cfg.image_dropout > 0:
            batch = blank_images(batch, cfg.image_dropout)
        with self.autocast:
            loss, logs = self.net(batch, self.body)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        if cfg.grad_clip > 0:
            logs["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.step += 1
        self.ema.update(self.model, self.step)
        return logs

    def _report(self, metrics: dict[str, float]) -> None:
        cfg = self.config
        # The step goes with the metrics: plots put them over steps, not over the share done.
        self.progress(ProgressEvent(self.step / cfg.steps, f"step {self.step}/{cfg.steps}",
                                    {**metrics, "step": self.step}))
        log.info("step %d: %s", self.step, ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Loss and zero-noise MPJPE (mm, where the pose is known) of the EMA model."""
        if not self.info.is_main:
            return {}
        model, cfg = self.ema.module, self.config
        assert self.val_data is not None, "validate() needs validation data"
        loader = DataLoader(self.val_data, batch_size=cfg.batch_size, shuffle=False, num_workers=cfg.workers)
        losses, errors = [], []
        with torch.random.fork_rng(devices=[self.info.device] if self.info.device.type == "cuda" else []):
            torch.manual_seed(cfg.seed)
            for i, batch in enumerate(loader):
                if i >= cfg.val_batches:
                    break
                with self.autocast:
                    losses.append(model.training_loss(batch, self.body)[1]["loss"])
                has = batch["has_pose"].bool()
                if has.any():
                    if model.detector_inputs:
                        params = model.sample(batch["image"][has], batch["cond_keypoints"][has], 1,
                                              landmarks=batch["landmarks"][has])[:, 0]
                    else:
                        params = model.sample(batch["image"][has], batch["keypoints"][has], 1)[:, 0]
                    rot, betas, _ = model.layout.split(params)
                    pred = self.body(rot, betas).joints
                    gt = self.body(batch["pose"][has].to(self.body.device), batch["betas"][has].to(self.body.device),
                                   rotation_format="axis_angle").joints
                    errors.append(mpjpe(pred, gt).cpu())
        out = {"val_loss": float(np.mean(losses))} if losses else {}
        if errors:
            out["val_mpjpe_zero"] = float(torch.cat(errors).mean())
        return out

    def _save(self) -> None:
        if not self.info.is_main:
            return
        cfg = self.config
        state = {
            "step": self.step,
            "model": self.model.state_dict(),
            "ema": self.ema.module.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "arch": {k: self.model.config[k] for k in cfg.architecture()},
            "normalizer": self.model.normalizer.to_dict(),
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + f".tmp{os.getpid()}")
        torch.save(state, tmp)
        tmp.replace(self.state_path)
        training = {k: v for k, v in asdict(cfg).items() if k not in ("extra", "resume")}
        self.ema.module.save(cfg.out, extra_config={"training": {**training, "step": self.step, **cfg.extra}})
