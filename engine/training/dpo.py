"""Diffusion-DPO fine-tuning of the diffusion HMR model (Wallace et al. 2024, as in ADHMR).

A frozen copy of the starting model is the reference. For each pair (winner w, loser l
of one person) one timestep t and one noise ε are drawn and used for both; each
model's per-sample error is the mean squared ε error over the D = 157 parameters
(``DiffusionHMR.denoise_error``), and

    loss = -log σ(-β/2 · [(e_w - e_w,ref) - (e_l - e_l,ref)])

with β = 100 by default. Diffusion-DPO's β multiplies a per-pixel *mean* error (their
code folds the T · ω(λ_t) factor of the paper's bound into β = 5000 for images of 4 x
64 x 64 latents); ours is a per-dimension mean too, over D = 157, so β keeps its
meaning across layouts, and at β = 100 a change of 0.02 in the error gap moves the
logit by 1, about the size of the gaps a few hundred fine-tuning steps make here. It
is a setting (``beta``), logged with every checkpoint.

Logged each step: loss, implicit accuracy (share of pairs where the policy prefers the
winner more than the reference does: the logit above is > 0; a tie counts as not), the
reward margin (mean logit) and the implicit rewards of winners and losers.

Cost: the reference runs under ``no_grad``; winner and loser go through each network in
one batch (rows interleaved) and share one image encoding.

Two other modes share the trainer, for comparisons and for data cleaning:
'reprojection' fine-tunes on the same pairs' images with a plain 2D-keypoint
reprojection loss (the x0 estimate of both noised candidates, decoded and projected,
against the detected keypoints; no preference), and 'supervised' fine-tunes with the
base model's own loss on labelled data. Any mode can add the supervised loss on
labelled data (``sft_weight``). :mod:`engine.training.dpo_train` runs the loop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import DataError
from engine.models import losses

MODES = ("dpo", "reprojection", "supervised")


@dataclass(frozen=True)
class DPOConfig:
    """Settings of one fine-tuning run.

    base: the checkpoint to start from, also the frozen reference (None: the bundled one).
    out: checkpoint stem (OUT.safetensors + OUT.json, kind 'dpo' in mode 'dpo' else
        'base', with 'parent' = base; OUT.train.pt to resume).
    pairs: pair files (.jsonl / .npz), merged (manual decisions win).
    mode: 'dpo', 'reprojection' (control: 2D reprojection on the pairs' images) or
        'supervised' (labelled data only).
    beta: DPO β (see the module docstring). antithetic: pair each drawn timestep t with
        T - 1 - t inside a batch (lower-variance gradient).
    ema_decay: > 0 keeps an exponential moving average of the weights, which is what
        is saved and evaluated; 0 saves the weights themselves.
    sft_data / sft_weight: labelled annotation files and the weight of the base
        model's loss on them (mode 'supervised' uses weight 1 when 0 is given).
    eval_data: labelled file evaluated every eval_every steps (and at the end), on
        eval_images people with eval_M hypotheses; scorer: adds the Select row.
    """

    out: str
    base: str | None = None
    pairs: tuple[str, ...] = ()
    mode: str = "dpo"
    steps: int = 500
    batch_size: int = 16
    lr: float = 1e-5
    weight_decay: float = 0.0
    warmup_steps: int = 10
    grad_clip: float = 1.0
    beta: float = 100.0
    antithetic: bool = False
    ema_decay: float = 0.0
    sft_data: tuple[str, ...] = ()
    sft_weight: float = 0.0
    sft_batch_size: int = 0
    eval_data: str | None = None
    scorer: str | None = None
    eval_every: int = 0
    eval_images: int = 32
    eval_M: int = 10
    save_every: int = 100
    log_every: int = 10
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    resume: bool = False
    body_model: str | None = None

    def __post_init__(self) -> None:
        for name in ("pairs", "sft_data"):
            v = getattr(self, name)
            object.__setattr__(self, name, (str(v),) if isinstance(v, (str, os.PathLike)) else tuple(map(str, v)))
        if self.mode not in MODES:
            raise DataError(f"dpo: mode must be one of {MODES}, got {self.mode!r}")
        for name in ("steps", "batch_size", "save_every", "log_every", "eval_images", "eval_M"):
            if int(getattr(self, name)) < 1:
                raise DataError(f"dpo: {name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0 or self.beta <= 0 or not 0 <= self.ema_decay < 1:
            raise DataError("dpo: lr and beta must be > 0 and ema_decay in [0, 1)")
        if self.sft_weight < 0 or self.warmup_steps < 0 or self.eval_every < 0 or self.workers < 0:
            raise DataError("dpo: sft_weight, warmup_steps, eval_every and workers must be >= 0")

    @property
    def uses_pairs(self) -> bool:
        return self.mode != "supervised"

    @property
    def supervised_weight(self) -> float:
        return self.sft_weight or (1.0 if self.mode == "supervised" else 0.0)


def dpo_loss(
    err_w: torch.Tensor, err_l: torch.Tensor, ref_w: torch.Tensor, ref_l: torch.Tensor, beta: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Diffusion-DPO loss of B pairs.

    err_w, err_l: (B,) the policy's mean squared ε errors on winners and losers;
    ref_w, ref_l: (B,) the reference's, on the same x_t (same t, same ε).
    Returns (scalar loss, stats): implicit_acc, the share of pairs with logit > 0;
    reward_margin, the mean logit -β/2 [(e_w - e_w,ref) - (e_l - e_l,ref)];
    reward_winner / reward_loser, the means of -β/2 (e - e_ref) of each side.
    """
    w_diff, l_diff = err_w - ref_w, err_l - ref_l
    logit = -0.5 * beta * (w_diff - l_diff)
    loss = -F.logsigmoid(logit).mean()
    stats = {
        "implicit_acc": (logit > 0).float().mean(),
        "reward_margin": logit.mean(),
        "reward_winner": (-0.5 * beta * w_diff).mean(),
        "reward_loser": (-0.5 * beta * l_diff).mean(),
    }
    return loss, {k: v.detach() for k, v in stats.items()}


def pair_timesteps(batch: int, num_timesteps: int, antithetic: bool = False,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """(batch,) long timesteps, uniform in [0, T), one per pair (from torch's global RNG).

    antithetic: the second half mirrors the first (t -> T - 1 - t); an odd last one is
    drawn on its own.
    """
    if not antithetic:
        return torch.randint(0, num_timesteps, (batch,), device=device)
    half = torch.randint(0, num_timesteps, (batch // 2,), device=device)
    parts = [half, num_timesteps - 1 - half]
    if batch % 2:
        parts.append(torch.randint(0, num_timesteps, (1,), device=device))
    return torch.cat(parts)


def interleave(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B, ...) and (B, ...) -> (2B, ...) rows a0, b0, a1, b1, ... (each person's rows
    together, as a Condition of batch B expects)."""
    return torch.stack([a, b], dim=1).reshape(-1, *a.shape[1:])


def pair_errors(model: Any, batch: dict, t: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair ε errors (B,), (B,) of winners and losers, same t (B,) and noise (B, D).

    batch: image (B, 3, S, S), keypoints (B, 17, 3), winner / loser (B, D) normalised.
    One encoding of the B images serves both candidates.
    """
    cond = model.encode(batch["image"], batch["keypoints"])
    dev = cond.pooled.device
    x0 = interleave(batch["winner"].to(dev), batch["loser"].to(dev))
    err = model.denoise_error(x0, t.to(dev).repeat_interleave(2), noise.to(dev).repeat_interleave(2, 0), cond)
    err = err.reshape(-1, 2)
    return err[:, 0], err[:, 1]


def reprojection_loss(model: Any, body: Any, batch: dict, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The control's loss: 2D keypoint error of the x0 estimates of both noised candidates.

    Both candidates of each pair are noised with the same t and ε, the model's clean
    estimate is decoded and projected, and compared with the detected keypoints
    (confidence-weighted L1, crop units). No preference enters. Returns a scalar.
    """
    cond = model.encode(batch["image"], batch["keypoints"])
    dev = cond.pooled.device
    x0 = interleave(batch["winner"].to(dev), batch["loser"].to(dev))
    tt = t.to(dev).repeat_interleave(2)
    eps = noise.to(dev).repeat_interleave(2, 0)
    x_t = model.q_sample(x0, tt, eps)
    x0_hat = model.predict_x0(x_t, tt, cond).float()
    rot, betas, cam = model.layout.split(model.normalizer.denormalize(x0_hat))
    pred = body(rot, betas, cam)
    target = batch["keypoints"].to(dev).float().repeat_interleave(2, 0)
    return losses.keypoint_2d_loss(pred.keypoints_2d, target).mean()


class Objective(nn.Module):
    """The trained model behind one forward (what DistributedDataParallel wraps).

    forward(pairs, ref_errors, sft_batch, t, noise, body) -> (loss, stats of tensors);
    pairs / sft_batch are None when the mode does not use them.
    """

    def __init__(self, model: nn.Module, config: DPOConfig):
        super().__init__()
        self.model = model
        self.mode = config.mode
        self.beta = config.beta
        self.sft_weight = config.supervised_weight

    def forward(self, pairs: dict | None, ref_errors: tuple[torch.Tensor, torch.Tensor] | None,
                sft_batch: dict | None, t: torch.Tensor | None, noise: torch.Tensor | None,
                body: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss = torch.zeros((), device=self.model.device)
        stats: dict[str, torch.Tensor] = {}
        if self.mode == "dpo":
            err_w, err_l = pair_errors(self.model, pairs, t, noise)
            loss, stats = dpo_loss(err_w, err_l, *ref_errors, self.beta)
            stats.update(dpo_loss=loss.detach(), err_winner=err_w.detach().mean(), err_loser=err_l.detach().mean())
        elif self.mode == "reprojection":
            loss = reprojection_loss(self.model, body, pairs, t, noise)
            stats["reprojection"] = loss.detach()
        if self.sft_weight > 0:
            sft, logs = self.model.training_loss(sft_batch, body)
            loss = loss + self.sft_weight * sft
            stats["supervised"] = torch.tensor(logs["loss"])
        stats["loss"] = loss.detach()
        return loss, stats
