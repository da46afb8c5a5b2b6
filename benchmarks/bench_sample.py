"""Time to sample, decode and score M candidates for one image, against its FLOP floor.

Usage (from the repository root):
    python -m benchmarks.bench_sample [-M 100] [--threads 2] [--runs 10] [--checkpoint PATH]
                                      [--precision auto|fp32|bf16] [--guidance SCALE]

Uses the default checkpoints when they exist, else default-size models with random
weights (same cost). Prints a markdown table of median milliseconds per stage after
warm-up, the network FLOPs of each stage (torch.utils.flop_counter), and the time those
FLOPs would take at the GFLOP/s this machine reaches on a large float32 matmul.

FLOPs are counted with PyTorch's fused transformer-encoder fast path (used by the
scorer) switched off: the FLOP counter does not see inside it.
Decoding always runs in float32; ``--precision`` sets the networks' arithmetic
(``engine.models.precision``; the app and ``adhmr sample`` use ``auto``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from skimage import data
from torch.utils.flop_counter import FlopCounterMode

from engine.body.model import BodyModel
from engine.data.crops import CropTransform, crop_image, transform_keypoints
from engine.data.dataset import normalise_image
from engine.errors import CheckpointError
from engine.models.candidates import decode_candidates
from engine.models.consensus import mean_sibling_distance
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.guidance import ReprojectionGuidance
from engine.models.precision import PRECISIONS, inference_precision, resolve_precision

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_ms  # noqa: E402

# The astronaut's COCO-17 keypoints as BlazePose finds them (x, y px, confidence), so the
# benchmark does not time the detector (see bench_detector.py for that).
KEYPOINTS = np.array([
    [221.7, 127.0, 1], [247.4, 111.2, 1], [203.4, 100.7, 1], [257.4, 120.0, 1], [180.0, 110.0, 1],
    [301.0, 255.0, 1], [100.0, 240.0, 1], [330.0, 380.0, 1], [60.0, 420.0, 1], [260.0, 480.0, 1],
    [150.0, 470.0, 1], [280.0, 500.0, 0], [150.0, 500.0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0],
], np.float32)


def matmul_gflops(n: int = 2048, runs: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    ms = median_ms(lambda: a @ b, runs)
    return 2 * n**3 / (ms / 1000) / 1e9


def count_flops(fn: Callable[[], object]) -> int:
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with FlopCounterMode(display=False) as counter:
            fn()
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return counter.get_total_flops()


def load_models(checkpoint: str | None, body: BodyModel):
    try:
        model, note = DiffusionHMR.load(checkpoint, body=body), "trained"
    except CheckpointError:
        model, note = DiffusionHMR(body=body).eval(), "random weights"
    scorer = None
    try:
        from engine.models.scorer import HMRScorer, ScorerConfig

        try:
            scorer = HMRScorer.load(None, body=body)
        except CheckpointError:
            scorer = HMRScorer(ScorerConfig()).eval()
    except ImportError:
        pass
    return model, note, scorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-M", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--guidance", type=float, default=0.0,
                        help="also time guided sampling at this scale (engine.models.guidance)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    body = BodyModel()
    model, note, scorer = load_models(args.checkpoint, body)
    image = data.astronaut()
    crop = CropTransform.for_box(np.array([30, 60, 380, 511], np.float32), model.crop_size)
    images = normalise_image(crop_image(image, crop))[None]
    keypoints = torch.from_numpy(transform_keypoints(KEYPOINTS, crop))[None]
    centre, size = torch.tensor(crop.center[None], dtype=torch.float32), torch.tensor([crop.size])
    params = model.sample(images, keypoints, args.M)
    cands = decode_candidates(params, model.layout, body, centre, size)

    precision = resolve_precision(args.precision, "cpu")

    def networks(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            with inference_precision(precision, "cpu"):
                return fn()
        return run

    stages: list[tuple[str, Callable[[], object]]] = [
        ("encode image", networks(lambda: model.encode(images, keypoints))),
        (f"sample {args.M} x 4 DDIM steps", networks(lambda: model.sample(images, keypoints, args.M))),
        (f"decode {args.M} meshes", lambda: decode_candidates(params, model.layout, body, centre, size)),
    ]
    if args.guidance > 0:
        guide = ReprojectionGuidance(body, model.layout, keypoints, args.guidance)
        stages.append((f"sample {args.M} guided (scale {args.guidance:g})",
                       networks(lambda: model.sample(images, keypoints, args.M, guidance=guide))))
    if scorer is not None:
        s_crop = CropTransform(crop.center, crop.size, scorer.config.crop_size)
        s_images = normalise_image(crop_image(image, s_crop))[None]
        stages.append((f"score {args.M}", networks(lambda: scorer.score_candidates(s_images, keypoints, cands))))
        stages.append(("  of which the consensus term", lambda: mean_sibling_distance(cands.joints)))

    def everything() -> None:
        p = networks(lambda: model.sample(images, keypoints, args.M))().float()
        c = decode_candidates(p, model.layout, body, centre, size)
        if scorer is not None:
            networks(lambda: scorer.score_candidates(s_images, keypoints, c))()

    stages.append(("total", everything))
    rate = matmul_gflops()
    cfg = model.config
    print(
        f"diffusion model width {cfg['width']}, {cfg['layers']} layers, crop {cfg['crop_size']} ({note}); "
        f"scorer: {'yes' if scorer is not None else 'none'}; {args.threads} threads "
        f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs); "
        f"matmul {rate:.0f} GFLOP/s (float32); networks in {precision}; median of {args.runs} runs\n"
    )
    print("| stage | ms | GFLOP | floor ms |")
    print("|---|---:|---:|---:|")
    with torch.no_grad():
        for name, fn in stages:
            flops = count_flops(fn) / 1e9
            ms = median_ms(fn, args.runs)
            print(f"| {name} | {ms:.1f} | {flops:.2f} | {flops / rate * 1000:.1f} |")
        if precision == "bf16":
            bf16_agreement(model, scorer, body, images, keypoints, centre, size, s_images if scorer else None, args.M)


def bf16_agreement(model, scorer, body, images, keypoints, centre, size, s_images, M: int) -> None:
    """What bfloat16 changes: the same noise sampled both ways, the same candidates scored both ways."""
    from scipy.stats import spearmanr

    exact = model.sample(images, keypoints, M)
    with inference_precision("bf16", "cpu"):
        fast = model.sample(images, keypoints, M).float()
    a = decode_candidates(exact, model.layout, body, centre, size)
    b = decode_candidates(fast, model.layout, body, centre, size)
    rel_a, rel_b = a.joints - a.joints[..., :1, :], b.joints - b.joints[..., :1, :]
    moved = float((rel_a - rel_b).norm(dim=-1).mean() * 1000)
    print(f"\nbf16 vs float32 sampling, same noise: root-relative joints differ by {moved:.1f} mm on average")
    if scorer is not None:
        s32 = scorer.score_candidates(s_images, keypoints, a)[0]
        with inference_precision("bf16", "cpu"):
            s16 = scorer.score_candidates(s_images, keypoints, a)[0].float()
        same = int(s32.argmax()) == int(s16.argmax())
        print(f"bf16 vs float32 scores of the same {M} candidates: rank correlation "
              f"{spearmanr(s32, s16).statistic:.3f}, same best candidate: {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
