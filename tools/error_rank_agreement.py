"""How alike do MPJPE, PA-MPJPE and PVE order one base model's samples of a person?

Samples M hypotheses per labelled person with a base checkpoint, measures the three errors
of each against the ground truth, and prints the per-person Spearman correlation between
every pair of errors, averaged. A scorer trained on all three terms with equal weights
learns a compromise between the orders; this says how far apart they are.

    python tools/error_rank_agreement.py data/studio_val/annotations.npz --max-images 96
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import torch
from torch.utils.data import default_collate

from engine.body.model import BodyModel
from engine.data.dataset import PersonCropDataset
from engine.metrics import spearman
from engine.models.candidates import decode_candidates
from engine.models.diffusion_hmr import DiffusionHMR
from engine.training.candidate_noise import ERROR_NAMES, candidate_errors
from engine.training.scorer_data import labelled_records


def sampled_errors(base_ckpt: str | None, data: str, max_images: int, M: int, seed: int) -> dict[str, np.ndarray]:
    """{error name: (N, M) mm} of M base samples for each of the first max_images people."""
    body = BodyModel(None)
    base = DiffusionHMR.load(base_ckpt, body=body)
    dataset = PersonCropDataset(labelled_records(data, need_camera=False)[:max_images], base.crop_size, train=False)
    out: dict[str, list[np.ndarray]] = {k: [] for k in ERROR_NAMES}
    for i in range(0, len(dataset), 8):
        batch = default_collate([dataset[k] for k in range(i, min(i + 8, len(dataset)))])
        with torch.no_grad():
            truth = body(batch["pose"], batch["betas"] * batch["has_betas"][:, None], rotation_format="axis_angle")
            params = base.sample(batch["image"], batch["keypoints"], M, steps=4, seed=seed + i)
            cands = decode_candidates(params, base.layout, body, batch["crop_center"], batch["crop_size"])
            errors = candidate_errors(cands.joints, cands.vertices, truth.joints, truth.vertices)
        for k in ERROR_NAMES:
            out[k].append(errors[k].numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="labelled annotation file")
    parser.add_argument("--checkpoint", default=None, help="base checkpoint (default: the bundled one)")
    parser.add_argument("--max-images", type=int, default=96)
    parser.add_argument("-M", type=int, default=20, help="samples per person")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    errors = sampled_errors(args.checkpoint, args.data, args.max_images, args.M, args.seed)
    n = len(errors[ERROR_NAMES[0]])
    print(f"{n} people, M = {args.M} samples each: per-person Spearman correlation of the errors' orders")
    print("| errors | SRCC |\n|---|---:|")
    for a, b in itertools.combinations(ERROR_NAMES, 2):
        rho = np.nanmean([spearman(x, y) for x, y in zip(errors[a], errors[b])])
        print(f"| {a} vs {b} | {rho:.3f} |")


if __name__ == "__main__":
    main()
