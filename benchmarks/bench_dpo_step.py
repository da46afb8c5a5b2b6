"""One DPO step against one supervised step of the base model, at the same batch.

Usage (from the repository root):
    python -m benchmarks.bench_dpo_step [--batch 16] [--runs 10] [--threads 2] [--crop-size 128]

Default-size model (``ARCH_DEFAULTS``) with random weights (the cost does not depend on
them). A DPO step: the frozen reference's ε errors of B winners and B losers under
no_grad, then the policy's forward and backward on the same 2B rows (one image encoding
for each pair), an AdamW step. A supervised step: ``training_loss`` on B labelled samples
(ε/x0 loss plus the body-model terms), backward, an AdamW step. Prints a markdown table
of the median milliseconds after warm-up and the ratio (goal: DPO <= 2.5 x supervised).
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch

from engine.body.model import BodyModel
from engine.models.diffusion_hmr import DiffusionHMR
from engine.training.dpo import DPOConfig, Objective, pair_errors, pair_timesteps

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_ms  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=16, help="pairs per DPO step = samples per supervised step")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--crop-size", type=int, default=None, help="default: the model's default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    body = BodyModel()
    model = DiffusionHMR({} if args.crop_size is None else {"crop_size": args.crop_size}, body=body).train()
    reference = DiffusionHMR(model.config, model.normalizer, body).eval().requires_grad_(False)
    reference.load_state_dict(model.state_dict())
    B, S, D = args.batch, model.crop_size, model.layout.dim
    g = torch.Generator().manual_seed(1)
    images, keypoints = torch.randn(B, 3, S, S, generator=g), torch.rand(B, 17, 3, generator=g)
    pairs = {"image": images, "keypoints": keypoints, "winner": torch.randn(B, D, generator=g),
             "loser": torch.randn(B, D, generator=g)}
    labelled = {"image": images, "keypoints": keypoints, "pose": 0.2 * torch.randn(B, 72, generator=g),
                "betas": torch.randn(B, 10, generator=g), "camera": torch.tensor([[0.9, 0.0, 0.1]]).repeat(B, 1),
                "has_pose": torch.ones(B), "has_betas": torch.ones(B), "has_camera": torch.ones(B)}
    objective = Objective(model, DPOConfig(out="unused", pairs=("unused",)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)

    def dpo_step() -> None:
        t = pair_timesteps(B, model.schedule.num_timesteps)
        noise = torch.randn(B, D)
        with torch.no_grad():
            ref = pair_errors(reference, pairs, t, noise)
        loss, _ = objective(pairs, ref, None, t, noise, body)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def supervised_step() -> None:
        loss, _ = model.training_loss(labelled, body)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    sup = median_ms(supervised_step, args.runs)
    dpo = median_ms(dpo_step, args.runs)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, crop {S}, width {model.config['width']}, "
          f"{model.config['layers']} layers, batch {B}")
    print()
    print("| step | median ms | x supervised |")
    print("|---|---:|---:|")
    print(f"| supervised (B = {B} samples) | {sup:.0f} | 1.00 |")
    print(f"| DPO (B = {B} pairs, reference + policy) | {dpo:.0f} | {dpo / sup:.2f} |")


if __name__ == "__main__":
    main()
