"""Where one scorer training step spends its time, in the default checkpoints' recipe.

Usage (from the repository root):
    python -m benchmarks.bench_scorer_step [--batch 8] [--runs 5] [--threads 1]
        [--detector-inputs] [--cross-attention] [--base-candidates 15]

A step of the default scorer's late stages (``tools/train_default_checkpoints.sh``):
8 images, each with the ground truth plus 15 candidates sampled by the committed base
model (4 DDIM steps), posed by the body model and measured; the committed scorer's
forward pass over the 16 candidates of each image; RankNet with PA-MPJPE x4, backward and
an AdamW step. Random crops and random labelled poses (the cost does not depend on them).
Prints a markdown table of the median milliseconds of each part after warm-up, and the
time to score 100 candidates of one person (no gradients).

--detector-inputs / --cross-attention time a fresh scorer of the committed one's size with
those options instead (random landmark tokens); --base-candidates 0 times a step on
ground truth + noisy copies only. --clock cpu measures the process's CPU time instead of
wall time: on a machine shared with other jobs it says what a step costs, not how long
it waited for a core.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from engine.body.model import BodyModel
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.param_layout import ParamLayout
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.training.scorer_data import BaseSampler, training_candidates
from engine.training.scorer_train import ScorerTrainConfig, ranknet_loss


clock = time.perf_counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8, help="images per step")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--detector-inputs", action="store_true")
    parser.add_argument("--cross-attention", action="store_true")
    parser.add_argument("--base-candidates", type=int, default=15, help="of the 16 candidates per image")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    body = BodyModel()
    base = BaseSampler(DiffusionHMR.load(None, body=body)) if args.base_candidates else None
    scorer = HMRScorer.load(None, body=body).train()
    if args.detector_inputs or args.cross_attention:
        torch.manual_seed(0)
        arch = ScorerConfig(**{**vars(scorer.config), "detector_inputs": args.detector_inputs,
                               "cross_attention": args.cross_attention})
        scorer = HMRScorer(arch).train()
    config = ScorerTrainConfig(data="unused", out="unused", base="bundled" if base else None,
                               base_candidates=args.base_candidates, crop_size=scorer.config.crop_size,
                               error_weights={"PA-MPJPE": 4.0}, detector_inputs=args.detector_inputs)
    optimizer = torch.optim.AdamW(scorer.parameters(), lr=1e-6)
    B, S = args.batch, scorer.config.crop_size
    g = torch.Generator().manual_seed(0)
    batch = {"image": torch.randn(B, 3, S, S, generator=g), "keypoints": torch.rand(B, 17, 3, generator=g),
             "pose": 0.2 * torch.randn(B, 72, generator=g), "betas": torch.randn(B, 10, generator=g),
             "camera": torch.tensor([[0.9, 0.0, 0.1]]).repeat(B, 1), "has_pose": torch.ones(B),
             "has_betas": torch.ones(B), "has_camera": torch.ones(B)}
    if args.detector_inputs:
        batch["cond_keypoints"] = torch.rand(B, 17, 3, generator=g)
        batch["landmarks"] = torch.cat([0.3 * torch.randn(B, 33, 3, generator=g), torch.ones(B, 33, 3)], -1)
    sample = base.sample if base else None
    times: dict[str, list[float]] = {k: [] for k in ("base samples", "noisy copies, posing, errors", "scorer forward",
                                                     "backward + AdamW", "step")}

    def timed_sample(*a, **kw):
        t = clock()
        out = sample(*a, **kw)
        times["base samples"].append(clock() - t)
        return out

    if base:
        base.sample = timed_sample
    for run in range(args.runs + 1):
        t0 = clock()
        cands = training_candidates(batch, body, ParamLayout(), config, base, torch.Generator().manual_seed(run), run)
        t1 = clock()
        logits = scorer.logits(**cands.scorer_inputs())
        t2 = clock()
        loss, _ = ranknet_loss(logits, cands.errors, config.tie_mm, config.weights())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        t3 = clock()
        if run == 0:  # warm-up
            times["base samples"].clear()
            continue
        if not base:
            times["base samples"].append(0.0)
        times["noisy copies, posing, errors"].append(t1 - t0 - times["base samples"][-1])
        times["scorer forward"].append(t2 - t1)
        times["backward + AdamW"].append(t3 - t2)
        times["step"].append(t3 - t0)
    score_ms = _score_100(scorer, cands, args.runs)
    options = [k for k, v in vars(scorer.config).items() if k in ("detector_inputs", "cross_attention") and v]
    print(f"scorer step: {B} images x 16 candidates ({args.base_candidates} base samples); scorer "
          f"{', '.join(options) or 'committed'}; {args.threads} threads, {args.clock} time "
          f"({platform.processor() or platform.machine()}); median of {args.runs} runs\n")
    print("| part | ms | share |")
    print("|---|---:|---:|")
    step = float(np.median(times["step"]))
    for name, values in times.items():
        ms = float(np.median(values)) * 1000
        print(f"| {name} | {ms:.0f} | {ms / step / 10:.0f} % |")
    print(f"\nscoring 100 candidates of one person (no gradients): {score_ms:.1f} ms")


def _score_100(scorer: HMRScorer, cands, runs: int) -> float:
    """Median ms of the scorer's logits for 100 candidates of one image (its first
    candidates repeated), in eval mode without gradients."""
    inputs = cands.scorer_inputs(slice(0, 1))
    reps = -(-100 // inputs["cand_depth"].shape[1])
    for key in ("cand_joints_crop", "cand_depth", "points3d"):
        if inputs[key] is not None:
            inputs[key] = torch.cat([inputs[key]] * reps, dim=1)[:, :100]
    scorer.eval()
    times = []
    with torch.no_grad():
        for run in range(runs + 1):
            t = clock()
            scorer.logits(**inputs)
            if run:
                times.append(clock() - t)
    scorer.train()
    return float(np.median(times)) * 1000


if __name__ == "__main__":
    main()
