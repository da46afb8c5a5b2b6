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
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from engine.params import SEED_MAX, check_fields, param
from engine.models import losses
from engine.body.model import BodyModel
from engine.models.diffusion_hmr import DiffusionHMR

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
        eval_images people with eval_num_candidates hypotheses; scorer: adds the Select row.
    """

    out: str = field(metadata=param("checkpoint path stem"))
    base: str | None = field(default=None, metadata=param("checkpoint to fine-tune (default: the bundled one)"))
    pairs: tuple[str, ...] = field(default=(), metadata=param("pair files (.jsonl / .npz)"))
    mode: str = field(default="dpo", metadata=param(
        "dpo: Diffusion-DPO on the pairs; reprojection: the 2D reprojection control; supervised: labelled "
        "data only", choices=MODES))
    steps: int = field(default=500, metadata=param("optimiser steps", ge=1))
    batch_size: int = field(default=16, metadata=param("pairs per step and process", ge=1))
    lr: float = field(default=1e-5, metadata=param("learning rate", gt=0))
    weight_decay: float = field(default=0.0, metadata=param("AdamW weight decay", ge=0))
    warmup_steps: int = field(default=10, metadata=param("steps of linear learning-rate warm-up", ge=0,
                                                               aliases=("warmup",)))
    grad_clip: float = field(default=1.0, metadata=param("clip the gradient norm to this (0: no clipping)", ge=0))
    beta: float = field(default=100.0, metadata=param("DPO β: how far the model may move from the reference",
                                                      gt=0))
    antithetic: bool = field(default=False, metadata=param("mirror timesteps within a batch"))
    ema_decay: float = field(default=0.0, metadata=param("keep and save an EMA of the weights (0: off)", ge=0,
                                                         lt=1))
    sft_data: tuple[str, ...] = field(default=(), metadata=param("labelled files for the supervised loss"))
    sft_weight: float = field(default=0.0, metadata=param("weight of the supervised loss", ge=0))
    sft_batch_size: int = field(default=0, metadata=param("labelled samples per step (0: batch_size)", ge=0))
    eval_data: str | None = field(default=None, metadata=param("labelled file evaluated during training"))
    scorer: str | None = field(default=None, metadata=param("scorer for the Select row of the evaluation"))
    eval_every: int = field(default=0, metadata=param("evaluate every this many steps (0: at the end only)",
                                                      ge=0))
    eval_images: int = field(default=32, metadata=param("people evaluated", ge=1))
    eval_num_candidates: int = field(default=10, metadata=param("hypotheses per evaluated person", ge=1,
                                                                aliases=("eval_M",)))
    save_every: int = field(default=100, metadata=param("save the training state every this many steps", ge=1))
    log_every: int = field(default=10, metadata=param("log every this many steps", ge=1))
    seed: int = field(default=0, metadata=param("random seed", ge=0, le=SEED_MAX))
    device: str = field(default="auto", metadata=param("auto (CUDA when available), cpu, cuda, cuda:1, ..."))
    workers: int = field(default=0, metadata=param("data loading processes", ge=0))
    resume: bool = field(default=False, metadata=param("continue from OUT.train.pt"))
    body_model: str | None = field(default=None, metadata=param("body model file (default: the bundled one)"))

    def __post_init__(self) -> None:
        for name in ("pairs", "sft_data"):
            v = getattr(self, name)
            object.__setattr__(self, name, (str(v),) if isinstance(v, (str, os.PathLike)) else tuple(map(str, v)))
        check_fields(self, "dpo")

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


def pair_errors(model: DiffusionHMR, batch: dict, t: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair ε errors (B,), (B,) of winners and losers, same t (B,) and noise (B, D).

    batch: image (B, 3, S, S), keypoints (B, 17, 3), winner / loser (B, D) normalised,
    landmarks (B, 33, 6) optional (read by a detector-conditioned model only).
    One encoding of the B images serves both candidates.
    """
    cond = model.encode(batch["image"], batch["keypoints"], batch.get("landmarks"))
    dev = cond.pooled.device
    x0 = interleave(batch["winner"].to(dev), batch["loser"].to(dev))
    err = model.denoise_error(x0, t.to(dev).repeat_interleave(2), noise.to(dev).repeat_interleave(2, 0), cond)
    err = err.reshape(-1, 2)
    return err[:, 0], err[:, 1]


def reprojection_loss(model: DiffusionHMR, body: BodyModel, batch: dict, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The control's loss: 2D keypoint error of the x0 estimates of both noised candidates.

    Both candidates of each pair are noised with the same t and ε, the model's clean
    estimate is decoded and projected, and compared with the detected keypoints
    (confidence-weighted L1, crop units). No preference enters. batch as for
    :func:`pair_errors`. Returns a scalar.
    """
    cond = model.encode(batch["image"], batch["keypoints"], batch.get("landmarks"))
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

    def __init__(self, model: DiffusionHMR, config: DPOConfig):
        super().__init__()
        self.model = model
        self.mode = config.mode
        self.beta = config.beta
        self.sft_weight = config.supervised_weight

    def forward(self, pairs: dict | None, ref_errors: tuple[torch.Tensor, torch.Tensor] | None,
                sft_batch: dict | None, t: torch.Tensor | None, noise: torch.Tensor | None,
                body: BodyModel) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss = torch.zeros((), device=self.model.device)
        stats: dict[str, torch.Tensor] = {}
        if self.mode == "dpo":
            assert pairs is not None and t is not None and noise is not None and ref_errors is not None
            err_w, err_l = pair_errors(self.model, pairs, t, noise)
            loss, stats = dpo_loss(err_w, err_l, *ref_errors, self.beta)
            stats.update(dpo_loss=loss.detach(), err_winner=err_w.detach().mean(), err_loser=err_l.detach().mean())
        elif self.mode == "reprojection":
            assert pairs is not None and t is not None and noise is not None
            loss = reprojection_loss(self.model, body, pairs, t, noise)
            stats["reprojection"] = loss.detach()
        if self.sft_weight > 0:
            assert sft_batch is not None, "a supervised weight needs a supervised batch"
            sft, logs = self.model.training_loss(sft_batch, body)
            loss = loss + self.sft_weight * sft
            stats["supervised"] = torch.tensor(logs["loss"])
        stats["loss"] = loss.detach()
        return loss, stats
