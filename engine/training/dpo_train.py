"""The fine-tuning loop of :mod:`engine.training.dpo`: data, steps, checkpoints, resume, DDP.

``train_dpo(config)`` runs one process; under ``torchrun`` (RANK / WORLD_SIZE set) each
process trains on its own shard of every step's pairs and DistributedDataParallel
averages the gradients (gloo on the CPU, NCCL on GPUs). Step k's batches and random
draws (timesteps, noise) depend only on (seed, rank, k), so a run stopped at any point
and resumed from its last ``OUT.train.pt`` ends with the same weights as one that never
stopped. The train state is written atomically every ``save_every`` steps, when
cancelled (then JobCancelled is raised) and at the end, with the checkpoint beside it.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader

from engine.body.model import BodyModel
from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import DatasetDetections, detections_matching
from engine.data.records import PersonSample
from engine.errors import CheckpointError, DataError, JobCancelled
from engine.models.checkpoint import checkpoint_paths
from engine.models.diffusion_hmr import DEFAULT_CHECKPOINT, DiffusionHMR
from engine.progress import CancelFn, ProgressEvent, ProgressFn, never_cancel, no_progress
from engine.training.base_data import load_training_records
from engine.training.base_train import EMA, root_joint_fn, train_state_path
from engine.training.distributed import (
    DistInfo, all_reduce_mean, any_process, init_distributed, shutdown_distributed, wait_for_all,
)
from engine.training.dpo import DPOConfig, Objective, pair_errors, pair_timesteps
from engine.training.dpo_data import PairDataset, StepBatches, check_pair_images
from engine.training.pairs import PreferencePair, check_layout, merge_pairs

log = logging.getLogger(__name__)

Evaluator = Callable[[DPOConfig], dict[str, float]]
"""Measures the checkpoint a run saved at ``config.out`` on ``config.eval_data``:
{metric name: value} for the logs and live plots."""


def train_dpo(
    config: DPOConfig,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    pairs: Sequence[PreferencePair] | None = None,
    sft_records: Sequence[PersonSample] | None = None,
    evaluator: Evaluator | None = None,
    sft_source: str | Path | None = None,
) -> Path:
    """Fine-tune (or resume); returns the checkpoint's weights path.

    pairs: pairs to use instead of reading ``config.pairs``; sft_records: labelled
    people instead of reading ``config.sft_data``. sft_source: the annotation file
    sft_records were read from; a detector-conditioned model reads the detector's
    outputs for them from its cache (``detections_matching``); without it, from the
    records themselves, and DataError when none carries them. evaluator: measures the saved
    checkpoint on ``config.eval_data`` (``engine.evaluation.evaluate_dpo_checkpoint``;
    evaluation sits above training, so the caller hands it in); needed when eval_data is set.
    Raises DataError (no or bad pairs, missing images, another parameter layout),
    CheckpointError (bad base checkpoint, resume without or with a mismatched state),
    JobCancelled (after saving a state to resume from).
    """
    if config.eval_data and evaluator is None:
        raise DataError(f"{config.eval_data}: held-out evaluation needs an evaluator "
                        "(engine.evaluation.evaluate_dpo_checkpoint)")
    info = init_distributed(config.device)
    try:
        weights = DPOTrainer(config, info, progress, should_cancel, pairs, sft_records, evaluator, sft_source).run()
        wait_for_all(info)
        return weights
    finally:
        shutdown_distributed(info)


def _step_seed(seed: int, step: int, rank: int) -> int:
    return (seed * 1_000_003 + step * 7919 + rank * 104_729) % (2**63 - 1)


class DPOTrainer:
    """One process's share of a fine-tuning run (``train_dpo`` builds and runs it)."""

    def __init__(self, config: DPOConfig, info: DistInfo, progress: ProgressFn = no_progress,
                 should_cancel: CancelFn = never_cancel, pairs: Sequence[PreferencePair] | None = None,
                 sft_records: Sequence[PersonSample] | None = None, evaluator: Evaluator | None = None,
                 sft_source: str | Path | None = None):
        self.config, self.info = config, info
        self.evaluator = evaluator
        self.progress = progress if info.is_main else no_progress
        self.should_cancel = should_cancel
        device = info.device
        self.body = BodyModel(config.body_model, device=device)
        self.base_path = checkpoint_paths(config.base if config.base is not None else DEFAULT_CHECKPOINT)[0]
        self.model = DiffusionHMR.load(self.base_path, body=self.body, device=device)
        self.pairs = self._pairs(pairs) if config.uses_pairs else []
        self.pair_data = PairDataset(self.pairs, self.model.crop_size, self.model.normalizer) if self.pairs else None
        self.sft_data = self._sft(sft_records, sft_source) if config.supervised_weight > 0 else None
        self.reference = None
        if config.mode == "dpo":
            self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.state_path = train_state_path(config.out)
        state = self._read_state() if config.resume else None
        self.ema = EMA(self.model, config.ema_decay) if config.ema_decay > 0 else None
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        warm = max(1, config.warmup_steps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: min(1.0, (s + 1) / warm))
        self.step = 0
        self.last_eval: dict[str, float] = {}
        if state is not None:
            self.model.load_state_dict(state["model"])
            if self.ema is not None:
                self.ema.module.load_state_dict(state["ema"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.step = int(state["step"])
            self.last_eval = dict(state.get("last_eval", {}))
            log.info("resuming %s at step %d", self.state_path, self.step)
        self.objective = Objective(self.model, config)
        self.net: torch.nn.Module = self.objective
        if info.distributed:
            ids = [device.index] if device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.objective, device_ids=ids, forward_sync_buffers=False)

    def _pairs(self, given: Sequence[PreferencePair] | None) -> list[PreferencePair]:
        from engine.training.pair_io import load_pairs

        if given is None and not self.config.pairs:
            raise DataError(f"dpo: mode {self.config.mode!r} needs preference pairs (pair files)")
        raw = list(given) if given is not None else load_pairs(self.config.pairs)
        pairs = merge_pairs(raw)
        where = ", ".join(self.config.pairs) or "pairs"
        if not pairs:
            raise DataError(f"{where}: no pairs to train on ({len(raw)} read, none accepted or proposed)")
        check_layout(pairs, self.model.layout.dim, where)
        check_pair_images(pairs)
        return pairs

    def _sft(self, records: Sequence[PersonSample] | None, source: str | Path | None) -> PersonCropDataset:
        detector = self.model.detector_inputs
        where = ", ".join(self.config.sft_data) or str(source or "sft data")
        detections: DatasetDetections | None = None
        if records is None:
            if not self.config.sft_data:
                raise DataError("dpo: the supervised loss needs labelled data (sft_data)")
            records, detections = load_training_records(self.config.sft_data, None, detector)
        elif detector:
            detections = _detections_of(records, source, where)
        keep = [i for i, r in enumerate(records) if r.pose is not None]
        if not keep:
            raise DataError(f"{where}: no person has a 3D (pose) label")
        if detections is not None:
            detections = DatasetDetections(*(getattr(detections, f.name)[keep] for f in fields(DatasetDetections)))
        return PersonCropDataset([records[i] for i in keep], self.model.crop_size, train=False,
                                 root_joint=root_joint_fn(self.body), detections=detections)

    def _read_state(self) -> dict:
        if not self.state_path.is_file():
            raise CheckpointError(f"{self.state_path}: no training state to resume from")
        try:
            state = torch.load(self.state_path, map_location=self.info.device, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - untrusted bytes: the unpickler raises many types
            raise CheckpointError(f"{self.state_path}: unreadable training state ({type(exc).__name__})") from None
        if state.get("mode") != self.config.mode or int(state.get("num_pairs", -1)) != len(self.pairs):
            raise CheckpointError(
                f"{self.state_path}: written by a {state.get('mode')} run on {state.get('num_pairs')} pairs, "
                f"not this {self.config.mode} run on {len(self.pairs)}")
        return state

    def _loader(self, dataset: Any, batch_size: int, seed: int) -> Any:
        batches = StepBatches(len(dataset), batch_size, seed, self.info.rank, self.info.world_size,
                              self.step, self.config.steps)
        return iter(DataLoader(dataset, batch_sampler=batches, num_workers=self.config.workers,
                               pin_memory=self.info.device.type == "cuda"))

    def run(self) -> Path:
        cfg, info = self.config, self.info
        weights = checkpoint_paths(cfg.out)[0]
        pair_iter = self._loader(self.pair_data, cfg.batch_size, cfg.seed) if self.pair_data else None
        sft_iter = None
        if self.sft_data is not None:
            sft_iter = self._loader(self.sft_data, cfg.sft_batch_size or cfg.batch_size, cfg.seed + 1)
        mark = (time.perf_counter(), self.step)
        while self.step < cfg.steps:
            if any_process(self.should_cancel(), info):
                self._save()
                raise JobCancelled(f"fine-tuning cancelled at step {self.step}; its state is saved, "
                                   "a resume carries on from there")
            stats = self._train_step(next(pair_iter) if pair_iter else None, next(sft_iter) if sft_iter else None)
            last = self.step == cfg.steps
            if self.step % cfg.log_every == 0 or last:
                stats = all_reduce_mean(stats, info)
                stats["lr"] = float(self.scheduler.get_last_lr()[0])
                stats["sec_per_step"] = (time.perf_counter() - mark[0]) / (self.step - mark[1])
                mark = (time.perf_counter(), self.step)
                self._report(stats)
            evaluate_now = cfg.eval_data and ((cfg.eval_every and self.step % cfg.eval_every == 0) or last)
            if self.step % cfg.save_every == 0 or last or evaluate_now:
                self._save()
            if evaluate_now:
                self._evaluate()
                self._save()
        return weights

    def _train_step(self, pairs: dict | None, sft_batch: dict | None) -> dict[str, float]:
        cfg, dev = self.config, self.info.device
        torch.manual_seed(_step_seed(cfg.seed, self.step, self.info.rank))
        t = noise = ref = None
        if pairs is not None:
            pairs = {k: v.to(dev) for k, v in pairs.items()}
            B = pairs["winner"].shape[0]
            t = pair_timesteps(B, self.model.schedule.num_timesteps, cfg.antithetic, dev)
            noise = torch.randn(B, self.model.layout.dim, device=dev)
            if self.reference is not None:
                with torch.no_grad():
                    ref = pair_errors(self.reference, pairs, t, noise)
        self.model.train()
        loss, stats = self.net(pairs, ref, sft_batch, t, noise, self.body)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        out = {k: float(v) for k, v in stats.items()}
        if cfg.grad_clip > 0:
            out["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip))
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        if self.ema is not None:
            self.ema.update(self.model, self.step)
        return out

    def _report(self, metrics: dict[str, float]) -> None:
        cfg = self.config
        # The step goes with the metrics: plots put them over steps, not over the share done.
        self.progress(ProgressEvent(self.step / cfg.steps, f"step {self.step}/{cfg.steps}",
                                    {**metrics, "step": self.step}))
        log.info("step %d: %s", self.step, ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))

    def _evaluate(self) -> None:
        if not self.info.is_main or self.evaluator is None:
            return
        self.last_eval = self.evaluator(replace(self.config, device=str(self.info.device)))
        self._report({**self.last_eval, "eval_step": float(self.step)})

    @property
    def saved_model(self) -> DiffusionHMR:
        """What checkpoints hold: the EMA weights when kept, else the weights themselves."""
        return self.ema.module if self.ema is not None else self.model

    def _save(self) -> None:
        if not self.info.is_main:
            return
        cfg = self.config
        state = {
            "step": self.step, "mode": cfg.mode, "num_pairs": len(self.pairs),
            "model": self.model.state_dict(),
            "ema": self.ema.module.state_dict() if self.ema is not None else {},
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "last_eval": self.last_eval,
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + f".tmp{os.getpid()}")
        torch.save(state, tmp)
        tmp.replace(self.state_path)
        training = {k: v for k, v in asdict(cfg).items() if k != "resume"}
        training.update(step=self.step, num_pairs=len(self.pairs))
        extra = {"kind": "dpo" if cfg.mode == "dpo" else "base", "parent": str(self.base_path),
                 "training": training, "eval": self.last_eval}
        self.saved_model.save(cfg.out, extra_config=extra)


def _detections_of(records: Sequence[PersonSample], source: str | Path | None, where: str) -> DatasetDetections:
    """The detector's outputs for labelled people handed in as records: the cache of
    the file they came from, else what they carry (photos that came through the
    detector). A detector-conditioned model must not train on none at all: it would
    learn to ignore the landmarks."""
    if source is not None:
        return detections_matching(source, records)
    detections = DatasetDetections.from_records(records)
    if not detections.found.any():
        raise DataError(f"{where}: a detector-conditioned model needs the detector's outputs for its labelled "
                        "people; give the file they came from (its `adhmr detect-dataset` cache)")
    return detections


def weights_of(path: str | Path) -> dict[str, np.ndarray]:
    """A checkpoint's tensors as arrays (to compare runs)."""
    from safetensors.numpy import load_file

    return load_file(str(checkpoint_paths(path)[0]))
