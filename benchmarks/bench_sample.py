"""Time to sample, decode and score M candidates for one image, against its FLOP floor.

Usage (from the repository root):
    python -m benchmarks.bench_sample [-M 100] [--threads 2] [--runs 10] [--checkpoint PATH]
                                      [--precision auto|fp32|bf16] [--guidance SCALE]

Uses the default checkpoints when they exist, else default-size models with random
weights (same cost). The person is found by the real detector on scikit-image's
astronaut; the first total row is ``sample_image``'s whole path (detector included)
sampling from noise, the second ``adhmr sample``'s default, which also fits the person
and starts the samples from the fit (README, Starting from the fit). Prints a markdown
table of median milliseconds per stage after warm-up, the network FLOPs of each stage
(torch.utils.flop_counter), and the time those FLOPs would take at the GFLOP/s this
machine reaches on a large float32 matmul.

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
from engine.data.landmark_tokens import tokens_of
from engine.detect import PoseDetector
from engine.diffusion import DEFAULT_STEPS
from engine.errors import CheckpointError
from engine.fitting import fit_detected
from engine.models.candidates import decode_candidates
from engine.models.consensus import mean_sibling_distance
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.guidance import ReprojectionGuidance
from engine.models.orientation import orient_candidates
from engine.models.pipeline import sample_image
from engine.models.precision import PRECISIONS, inference_precision, resolve_precision
from engine.models.sample_settings import SampleSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_ms  # noqa: E402

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
    detector = PoseDetector(num_threads=args.threads)
    person = detector.detect(image)
    crop = CropTransform.for_box(np.asarray(person.box, np.float32), model.crop_size)
    images = normalise_image(crop_image(image, crop))[None]
    keypoints = torch.from_numpy(transform_keypoints(np.asarray(person.keypoints), crop))[None]
    tokens = tokens_of(person)
    landmarks = {"landmarks": torch.from_numpy(tokens)[None]} if model.config.get("detector_inputs") else {}
    extra = {"landmarks": torch.from_numpy(tokens)[None]} if getattr(scorer, "detector_inputs", False) else {}
    centre, size = torch.tensor(crop.center[None], dtype=torch.float32), torch.tensor([crop.size])
    params = model.sample(images, keypoints, args.M, **landmarks)
    cands = decode_candidates(params, model.layout, body, centre, size)

    precision = resolve_precision(args.precision, "cpu")

    def networks(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            with inference_precision(precision, "cpu"):
                return fn()
        return run

    stages: list[tuple[str, Callable[[], object]]] = [
        ("detect the person (BlazePose, both networks)", lambda: detector.detect(image)),
        ("encode image", networks(lambda: model.encode(images, keypoints, **landmarks))),
        (f"sample {args.M} x {DEFAULT_STEPS} DDIM steps",
         networks(lambda: model.sample(images, keypoints, args.M, **landmarks))),
        (f"decode {args.M} meshes", lambda: decode_candidates(params, model.layout, body, centre, size)),
        (f"turn {args.M} decoded by the world landmarks (orientation step)",
         lambda: orient_candidates(cands, torch.from_numpy(tokens)[None], keypoints, model.layout, centre, size)),
    ]
    if args.guidance > 0:
        guide = ReprojectionGuidance(body, model.layout, keypoints, args.guidance)
        stages.append((f"sample {args.M} guided (scale {args.guidance:g})",
                       networks(lambda: model.sample(images, keypoints, args.M, guidance=guide, **landmarks))))
    if scorer is not None:
        s_crop = CropTransform(crop.center, crop.size, scorer.config.crop_size)
        s_images = normalise_image(crop_image(image, s_crop))[None]
        stages.append((f"score {args.M}", networks(lambda: scorer.score_candidates(s_images, keypoints, cands, **extra))))
        stages.append(("  of which the consensus term", lambda: mean_sibling_distance(cands.joints)))

    settings = SampleSettings(num_candidates=args.M, precision=precision, device="cpu")

    def everything() -> None:
        sample_image(image, model, settings, detector=detector, scorer=scorer, body=body)

    stages.append(("total: detect, sample from noise, decode, score (`--fit-start 0`)", everything))
    stages.append(("fit the person (the samples' start)", lambda: fit_detected([person], body)))

    def from_the_fit() -> None:
        found = detector.detect(image)
        fit = fit_detected([found], body).result.params[0].numpy()
        sample_image(image, model, settings, keypoints=np.asarray(found.keypoints, np.float32), box=tuple(found.box),
                     scorer=scorer, body=body, landmarks=tokens_of(found), extra=(("fit", fit),))

    stages.append(("total: detect, fit, sample from the fit, decode, score (adhmr sample's default)", from_the_fit))
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
            bf16_agreement(model, scorer, body, images, keypoints, centre, size, s_images if scorer else None, args.M,
                           landmarks, extra)


def bf16_agreement(model, scorer, body, images, keypoints, centre, size, s_images, M: int,
                   landmarks: dict, extra: dict) -> None:
    """What bfloat16 changes: the same noise sampled both ways, the same candidates scored both ways."""
    from scipy.stats import spearmanr

    exact = model.sample(images, keypoints, M, **landmarks)
    with inference_precision("bf16", "cpu"):
        fast = model.sample(images, keypoints, M, **landmarks).float()
    a = decode_candidates(exact, model.layout, body, centre, size)
    b = decode_candidates(fast, model.layout, body, centre, size)
    rel_a, rel_b = a.joints - a.joints[..., :1, :], b.joints - b.joints[..., :1, :]
    moved = float((rel_a - rel_b).norm(dim=-1).mean() * 1000)
    print(f"\nbf16 vs float32 sampling, same noise: root-relative joints differ by {moved:.1f} mm on average")
    if scorer is not None:
        s32 = scorer.score_candidates(s_images, keypoints, a, **extra)[0]
        with inference_precision("bf16", "cpu"):
            s16 = scorer.score_candidates(s_images, keypoints, a, **extra)[0].float()
        same = int(s32.argmax()) == int(s16.argmax())
        print(f"bf16 vs float32 scores of the same {M} candidates: rank correlation "
              f"{spearmanr(s32, s16).statistic:.3f}, same best candidate: {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
