"""Training the HMR-Scorer with pairwise ranking over the candidates of each image.

Per image: K candidates (ground truth, noisy copies, and samples of the base model when one
is given), each with its true MPJPE, PA-MPJPE and PVE. The loss is RankNet's: for each
pair (i, j) of one image's candidates with err_i < err_j, -log sigmoid(l_i - l_j) on the
logits l = 5 s, averaged over pairs, one term per error, summed.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.body.model import BodyModel
from engine.errors import CheckpointError, ShapeError
from engine.models.checkpoint import body_signature, checkpoint_paths
from engine.models.param_layout import ParamLayout
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.training.candidate_noise import ERROR_NAMES, CandidateNoise
from engine.training.scorer_data import (
    BaseSampler,
    ScorerBatches,
    ValidationSet,
    pick_device,
    training_candidates,
)
from engine.training.scorer_eval import validation_correlation, validation_logits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScorerTrainConfig:
    """Everything a scorer training run needs; recorded in the checkpoint.

    data / val: labelled annotation files (SPIN/ProHMR .npz or COCO .json with SMPL labels);
        without ``val`` up to ``val_images`` training images are held out.
    out: checkpoint stem; the resumable state goes to ``OUT.train.pt``.
    base: a base diffusion checkpoint; ``base_candidates`` of each image's
        ``candidates_per_image`` then come from it.
    crop_size: None = the base model's, else 128.
    ema_decay: 0 switches the exponential moving average of the weights off.
    tie_mm: pairs whose errors differ by less than this are not ranked.
    error_weights: {error name: weight} of each error's ranking term (missing = 1). MPJPE
        and PVE order a base model's samples alike and PA-MPJPE differently (per-image
        rank correlation about 0.5), so equal weights lean the ranking 2:1 towards the
        global errors; weight PA-MPJPE up where the articulated pose matters most.
    include_pseudo: also train on labels marked 'pseudo' (left out by default).
    init: a scorer checkpoint whose weights a fresh run starts from (fine-tuning, e.g. a
        second stage with base samples); its architecture must match width/heads and crop
        size, and have at most ``layers`` layers (a deeper run grows it, the new layers
        starting as the identity). Ignored on resume (the state holds the weights).
    """

    data: str
    out: str
    val: str | None = None
    base: str | None = None
    steps: int = 20000
    batch_size: int = 8
    candidates_per_image: int = 16
    base_candidates: int = 4
    base_steps: int = 4
    lr: float = 3e-4
    weight_decay: float = 0.05
    warmup_steps: int = 200
    grad_clip: float = 1.0
    ema_decay: float = 0.0
    tie_mm: float = 0.0
    width: int = 128
    layers: int = 3
    heads: int = 4
    crop_size: int | None = None
    augment: bool = True
    seed: int = 0
    device: str | None = None
    num_workers: int = 0
    val_images: int = 64
    val_every: int = 500
    save_every: int = 500
    resume: bool = False
    body_model: str | None = None
    include_pseudo: bool = False
    init: str | None = None
    noise: CandidateNoise = field(default_factory=CandidateNoise)
    error_weights: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.error_weights) - set(ERROR_NAMES)
        if unknown:
            raise ShapeError(f"error_weights: unknown error {min(unknown)!r}; use {', '.join(ERROR_NAMES)}")
        weights = self.weights()
        if any(not math.isfinite(w) or w < 0 for w in weights.values()) or not any(weights.values()):
            raise ShapeError(f"error_weights must be >= 0 and not all 0, got {weights}")
        if isinstance(self.noise, dict):  # from a JSON config (job parameters, a checkpoint)
            try:
                object.__setattr__(self, "noise", CandidateNoise(**self.noise))
            except TypeError as exc:
                raise ShapeError(f"noise: {exc}") from None
        if self.candidates_per_image < 2:
            raise ShapeError(f"candidates_per_image must be >= 2 to rank, got {self.candidates_per_image}")
        if self.base and not 0 <= self.base_candidates < self.candidates_per_image:
            raise ShapeError(
                f"base_candidates must be in [0, candidates_per_image), got {self.base_candidates}"
            )
        for name in ("steps", "batch_size", "val_every", "save_every"):
            if getattr(self, name) < 1:
                raise ShapeError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.ema_decay < 1:
            raise ShapeError(f"ema_decay must be in [0, 1), got {self.ema_decay}")

    def to_dict(self) -> dict:
        return asdict(self)

    def weights(self) -> dict[str, float]:
        """The weight of every error's ranking term."""
        return {name: float(self.error_weights.get(name, 1.0)) for name in ERROR_NAMES}


def ranknet_loss(
    logits: torch.Tensor, errors: dict[str, torch.Tensor], tie: float = 0.0, weights: dict[str, float] | None = None,
) -> tuple[torch.Tensor, float]:
    """Pairwise ranking loss over the candidates of each image.

    Args:
        logits: (B, K) scorer logits (higher = better).
        errors: {name: (B, K)} errors (lower = better); one loss term per entry.
        tie: pairs closer than this are left out.
        weights: {name: weight} of each term (missing = 1); a 0 term is skipped.

    Returns:
        loss: scalar, the weighted sum over errors of the mean -log sigmoid(l_i - l_j) over
        ordered pairs (err_i < err_j); accuracy: share of those pairs ranked right, over the
        errors with a weight.
    """
    diff = logits[:, :, None] - logits[:, None, :]  # (B, K, K): l_i - l_j
    loss = logits.new_zeros(())
    right = total = 0
    for name, e in errors.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        better = (e[:, :, None] + tie) < e[:, None, :]
        if weight and better.any():
            loss = loss + weight * F.softplus(-diff[better]).mean()
            right += int((diff[better] > 0).sum())
            total += int(better.sum())
    return loss, right / max(total, 1)


def state_path(out: str | Path) -> Path:
    """Where the resumable training state of checkpoint ``out`` lives."""
    weights, _ = checkpoint_paths(out)
    return weights.with_name(weights.with_suffix("").name + ".train.pt")


def _lr_factor(step: int, config: ScorerTrainConfig) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _save_state(path: Path, step: int, model, ema, optimizer, config: ScorerTrainConfig) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(
        {
            "step": step,
            "model": model.state_dict(),
            "ema": ema.state_dict() if ema is not None else {},
            "optimizer": optimizer.state_dict(),
            "config": json.dumps(config.to_dict()),
        },
        tmp,
    )
    tmp.replace(path)


def _load_state(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's safe unpickler raises many types on corrupt or untrusted files
        raise CheckpointError(f"{path}: cannot resume from this training state ({type(exc).__name__})") from None


def _load_init(model: HMRScorer, path: str, body) -> None:
    """Copy a scorer checkpoint's weights into ``model``.

    The architectures must match, except that ``model`` may have more transformer layers:
    it then grows deeper, its extra layers starting as the identity (see ``_zero_residuals``)
    so that the grown scorer first ranks exactly as the loaded one.
    """
    source = HMRScorer.load(path, body=body, device=model.device)
    if replace(source.config, layers=model.config.layers) != model.config or source.config.layers > model.config.layers:
        raise CheckpointError(
            f"{path}: its architecture {asdict(source.config)} differs from this run's {asdict(model.config)} "
            "(only more layers are allowed)"
        )
    # Only the new layers' weights are missing: the architectures matched above.
    _, unexpected = model.load_state_dict(source.state_dict(), strict=False)
    if unexpected:
        raise CheckpointError(f"{path}: unexpected weights {unexpected[:3]}")
    for layer in model.transformer.layers[source.config.layers :]:
        _zero_residuals(layer)
    log.info(
        "scorer weights initialised from %s (%d new layers of %d)",
        path, model.config.layers - source.config.layers, model.config.layers,
    )


def _zero_residuals(layer: torch.nn.TransformerEncoderLayer) -> None:
    """Make a pre-norm transformer layer the identity: both residual branches output 0."""
    with torch.no_grad():
        for linear in (layer.self_attn.out_proj, layer.linear2):
            linear.weight.zero_()
            linear.bias.zero_()


def train_scorer(
    config: ScorerTrainConfig,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> Path:
    """Train (or resume training) an HMR-Scorer; returns the checkpoint's weights path.

    Checkpoints are written every ``save_every`` steps and at the end, atomically; a
    cancelled run saves its state first, so ``resume=True`` continues where it stopped.

    Raises:
        DataError: the data has no usable labelled images.
        CheckpointError: a base or resume checkpoint does not fit.
        JobCancelled: ``should_cancel`` returned True (the state is saved).
    """
    device = pick_device(config.device)
    body = BodyModel(config.body_model, device=device)
    layout = ParamLayout()
    base = BaseSampler.load(config.base, body, device) if config.base else None
    crop_size = config.crop_size or (base.crop_size if base else 128)
    batches = ScorerBatches(config, body, crop_size)
    val = ValidationSet.build(config, body, crop_size, base, held_out=batches.held_out)

    torch.manual_seed(config.seed)
    model = HMRScorer(ScorerConfig(crop_size, config.width, config.layers, config.heads), layout).to(device)
    model.body_signature = body_signature(body)
    ema = copy.deepcopy(model).eval() if config.ema_decay > 0 else None
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start = 0
    spath = state_path(config.out)
    if config.resume:
        if not spath.is_file():
            raise CheckpointError(f"{spath}: no training state to resume (train without --resume first)")
        state = _load_state(spath)
        try:
            model.load_state_dict(state["model"])
            if ema is not None and state["ema"]:
                ema.load_state_dict(state["ema"])
            optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as exc:
            reason = str(exc).splitlines()[0]
            raise CheckpointError(f"{spath}: training state does not fit this configuration ({reason})") from None
        start = int(state["step"])
        log.info("resuming scorer training at step %d", start)
    elif config.init:
        _load_init(model, config.init, body)
        if ema is not None:
            # The average must start from the loaded weights, not the random ones.
            ema.load_state_dict(model.state_dict())

    def save(step: int, metrics: dict) -> Path:
        _save_state(spath, step, model, ema, optimizer, config)
        final = ema if ema is not None else model
        extra = {"training": dict(config.to_dict(), steps_done=step), "validation": metrics}
        return final.save(config.out, extra=extra)

    val_metrics: dict = {}
    weights = checkpoint_paths(config.out)[0]
    model.train()
    for step, batch in batches.iterate(start):
        if should_cancel():
            save(step, val_metrics)
            check_cancel(should_cancel)
        for group in optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(step, config)
        step_seed = config.seed * 1_000_003 + step
        gen = torch.Generator(device=device).manual_seed(step_seed)
        cands = training_candidates(batch, body, layout, config, base, gen, step_seed)
        logits = model.logits(cands.images, cands.keypoints, cands.crop, cands.depth)
        loss, accuracy = ranknet_loss(logits, cands.errors, config.tie_mm, config.weights())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        if ema is not None:
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.lerp_(pm, 1 - config.ema_decay)
        done = step + 1
        metrics = {"loss": float(loss.detach()), "pair_accuracy": accuracy, "lr": optimizer.param_groups[0]["lr"]}
        if val is not None and (done % config.val_every == 0 or done == config.steps):
            scored = ema if ema is not None else model
            logits = validation_logits(scored, val)
            val_metrics = validation_correlation(logits, val)
            # RankNet ignores a constant shift of the logits, so they drift; centring the
            # saved scorer on the validation candidates keeps sigmoid(5 s - offset) around
            # 0.5 and away from float32 saturation, where distinct logits would tie at 1.0.
            scored.score_offset = float(np.median(logits))
            metrics.update({f"val_srcc_{k}": v["srcc"] for k, v in val_metrics.items()})
            log.info("step %d validation %s", done, val_metrics)
        if done % config.save_every == 0 or done == config.steps:
            weights = save(done, val_metrics)
        progress(ProgressEvent(done / config.steps, f"step {done}/{config.steps}", metrics))
    if start >= config.steps:
        log.info("training state is already at step %d of %d", start, config.steps)
    return weights
