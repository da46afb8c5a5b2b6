"""Fit a scorer's sample-consensus weight on labelled held-out people and store it.

    python tools/fit_consensus_weight.py resources/checkpoints/scorer \\
        --data data/studio_val/annotations.npz --max-images 300

Samples M hypotheses per person with the base model (as ``adhmr eval`` does), keeps the
scorer network's logits and each hypothesis's mean PA distance to its siblings, and
picks the weight that ranks the hypotheses best (``engine.training.consensus_fit``).
Writes it as ``consensus.weight_per_mm`` into the scorer's JSON config; ``--dry-run``
only prints the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from engine.evaluation import evaluate
from engine.models.sample_settings import SampleSettings
from engine.metrics import ranking_correlation
from engine.training.consensus_fit import fit_consensus_weight


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scorer", type=Path, help="scorer checkpoint (stem, .json or .safetensors)")
    parser.add_argument("--data", required=True, help="labelled held-out people (not the scorer's training set)")
    parser.add_argument("--checkpoint", default=None, help="base checkpoint (default: the bundled one)")
    parser.add_argument("--max-images", type=int, default=300)
    parser.add_argument("-M", type=int, default=20, help="hypotheses per person")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true", help="print the table, change nothing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    stem = args.scorer.with_suffix("") if args.scorer.suffix in (".json", ".safetensors") else args.scorer
    config_path = stem.with_suffix(".json")
    config = json.loads(config_path.read_text())
    result = evaluate(args.checkpoint, stem, args.data,
                      SampleSettings(num_candidates=args.M, seed=args.seed, consensus=False),
                      max_images=args.max_images, mixed=False)
    error_weights = (config.get("training") or {}).get("error_weights") or {}
    fit = fit_consensus_weight(result.logits, result.sibling_mm, result.errors, error_weights)
    names = list(result.errors)
    print("| weight per mm | objective | " + " | ".join(f"SRCC {n}" for n in names) + " |")
    print("|---:|---:|" + "---:|" * len(names))
    for row in fit.table:
        print(f"| {row['weight']:.4f} | {row['objective']:.4f} | " + " | ".join(f"{row[n]:.4f}" for n in names) + " |")
    alone = {n: ranking_correlation(-result.sibling_mm, result.errors[n]).srcc for n in names}
    print("the sibling distance alone: " + ", ".join(f"SRCC {n} {v:.4f}" for n, v in alone.items()))
    print(f"chosen: {fit.weight:.4f} logit units per mm (objective weights {error_weights or 'equal'})")
    if args.dry_run:
        return
    config["consensus"] = {
        "weight_per_mm": fit.weight,
        "from": f"{result.settings['num_images']} people of {args.data}, M = {args.M}, seed {args.seed}",
    }
    tmp = config_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config, indent=1))
    tmp.replace(config_path)
    print(f"wrote {config_path}")


if __name__ == "__main__":
    main()
