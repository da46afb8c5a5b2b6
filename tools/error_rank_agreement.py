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

from engine.evaluation import evaluate
from engine.models.sample_settings import SampleSettings
from engine.metrics import spearman
from engine.training.candidate_noise import ERROR_NAMES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="labelled annotation file")
    parser.add_argument("--checkpoint", default=None, help="base checkpoint (default: the bundled one)")
    parser.add_argument("--max-images", type=int, default=96)
    parser.add_argument("-M", type=int, default=20, help="samples per person")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    errors = evaluate(args.checkpoint, None, args.data, SampleSettings(num_candidates=args.M, seed=args.seed),
                      max_images=args.max_images, use_scorer=False, mixed=False).errors
    n = len(errors[ERROR_NAMES[0]])
    print(f"{n} people, M = {args.M} samples each: per-person Spearman correlation of the errors' orders")
    print("| errors | SRCC |\n|---|---:|")
    for a, b in itertools.combinations(ERROR_NAMES, 2):
        rho = np.nanmean([spearman(x, y) for x, y in zip(errors[a], errors[b])])
        print(f"| {a} vs {b} | {rho:.3f} |")


if __name__ == "__main__":
    main()
