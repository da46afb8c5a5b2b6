"""Choose the guided-sampling strength on labelled validation people and print a table.

    python tools/choose_guidance.py --data /tmp/val_studio/annotations.npz \\
        --data /tmp/val_wild/annotations.npz --scales 0 1 2 5 10 --max-images 32 -M 10

For each guidance scale (``SampleSettings.guidance_scale``, ``engine.models.guidance``)
and each validation set, evaluates the default base model and scorer as ``adhmr eval``
does and prints MPJPE / PA-MPJPE (mm) of the Select, Zero-noise and Min rows. The scale
to ship is the one with the lowest mean Select MPJPE over the sets. Validation sets
come from ``adhmr synth --seed 2`` (the default checkpoints train on seed 0).
"""

from __future__ import annotations

import argparse
import json

import torch

from engine.evaluation import evaluate
from engine.models.sample_settings import SampleSettings

ROWS = ("Select", "Zero-noise", "Min")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True, help="labelled validation annotations.npz (repeat)")
    parser.add_argument("--scales", type=float, nargs="+", default=[0.0, 1.0, 2.0, 5.0, 10.0])
    parser.add_argument("--max-images", type=int, default=32)
    parser.add_argument("-M", type=int, default=10, help="hypotheses per person")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the table here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = []
    for scale in args.scales:
        settings = SampleSettings(num_candidates=args.M, seed=args.seed, device="cpu", guidance_scale=scale)
        row: dict = {"scale": scale}
        for data in args.data:
            report = evaluate(None, None, data, settings, max_images=args.max_images, mixed=False).report
            row[data] = {r: {m: report.value(r, m) for m in ("MPJPE", "PA-MPJPE")} for r in ROWS}
        row["select_mpjpe_mean"] = sum(row[d]["Select"]["MPJPE"] for d in args.data) / len(args.data)
        table.append(row)
        print(_line(row, args.data), flush=True)
    best = min(table, key=lambda r: r["select_mpjpe_mean"])
    print(f"lowest mean Select MPJPE: scale {best['scale']:g} ({best['select_mpjpe_mean']:.1f} mm); "
          f"{args.max_images} people per set, M = {args.M}, seed {args.seed}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": table, "max_images": args.max_images, "M": args.M, "seed": args.seed}, f, indent=1)


def _line(row: dict, sets: list[str]) -> str:
    cells = [f"{row['scale']:g}"]
    for d in sets:
        cells += [f"{row[d][r]['MPJPE']:.1f} / {row[d][r]['PA-MPJPE']:.1f}" for r in ROWS]
    return "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    main()
