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
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.body.model import BodyModel
from engine.devices import pick_device
from engine.errors import CheckpointError
from engine.models.checkpoint import body_signature, checkpoint_paths
from engine.models.param_layout import ParamLayout
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.models.scorer_parts import CrossAttentionBlock
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.training.candidate_noise import RestRootJoint
from engine.training.scorer_config import ScorerTrainConfig
from engine.training.scorer_data import (
    BaseSampler,
    ScorerBatches,
    ValidationSet,
    needs_detections,
    training_candidates,
)
from engine.training.scorer_eval import validation_correlation, validation_logits
from engine.training.scorer_sample_cache import CachedSamples, load_or_build_sample_cache, sample_cache_key

log = logging.getLogger(__name__)


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
    if model.config.cross_attention:
        for block in list(model.blocks)[source.config.layers :]:
            if isinstance(block, CrossAttentionBlock):
                block.zero_residuals()
    else:
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


def _sample_cache(config: ScorerTrainConfig, base, batches: ScorerBatches, body, progress: ProgressFn,
                  should_cancel: CancelFn) -> CachedSamples | None:
    """The training people's cached base samples, when the config names a cache."""
    if not config.sample_cache or not config.base or base is None:
        return None
    records = batches.dataset.records
    num = config.cache_samples or config.base_candidates
    # The cache's own seed, not the run's: later stages with other seeds reuse it.
    key = sample_cache_key(config.base, records, num, config.base_steps, seed=0)
    cache = load_or_build_sample_cache(config.sample_cache, base, records, batches.dataset.detections, key,
                                       config.batch_size, progress, should_cancel)
    return CachedSamples(cache, RestRootJoint(body), ParamLayout())


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
    batches = ScorerBatches(config, body, crop_size, detections=needs_detections(config, base))
    val = ValidationSet.build(config, body, crop_size, base, held_out=batches.held_out)

    cached = _sample_cache(config, base, batches, body, progress, should_cancel)

    torch.manual_seed(config.seed)
    architecture = ScorerConfig(crop_size, config.width, config.layers, config.heads,
                                detector_inputs=config.detector_inputs, cross_attention=config.cross_attention)
    model = HMRScorer(architecture, layout).to(device)
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
        cands = training_candidates(batch, body, layout, config, base, gen, step_seed, cached)
        logits = model.logits(**cands.scorer_inputs())
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
            val_logits = validation_logits(scored, val)
            val_metrics = validation_correlation(val_logits, val)
            # RankNet ignores a constant shift of the logits, so they drift; centring the
            # saved scorer on the validation candidates keeps sigmoid(5 s - offset) around
            # 0.5 and away from float32 saturation, where distinct logits would tie at 1.0.
            scored.score_offset = float(np.median(val_logits))
            metrics.update({f"val_srcc_{k}": v["srcc"] for k, v in val_metrics.items()})
            log.info("step %d validation %s", done, val_metrics)
        if done % config.save_every == 0 or done == config.steps:
            weights = save(done, val_metrics)
        # The step goes with the metrics: plots put them over steps, not over the share done.
        progress(ProgressEvent(done / config.steps, f"step {done}/{config.steps}", {**metrics, "step": done}))
    if start >= config.steps:
        log.info("training state is already at step %d of %d", start, config.steps)
    return weights
