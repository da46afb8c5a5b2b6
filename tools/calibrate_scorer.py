"""Centre a scorer's displayed scores: store the median logit of its scores in a project.

    python tools/calibrate_scorer.py PROJECT.adhmr resources/checkpoints/scorer.json

RankNet training ignores a constant shift of the logits, so a trained scorer's
sigmoid(5 s) can sit near 0 for every candidate. The median raw logit over the project's
scored candidates becomes ``calibration.logit_offset`` in the scorer's JSON config; the
scorer subtracts it before the sigmoid. Rankings, Select and correlations do not change.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("scorer_json", type=Path)
    args = parser.parse_args()
    config = json.loads(args.scorer_json.read_text())
    old = float((config.get("calibration") or {}).get("logit_offset", 0.0))
    with sqlite3.connect(f"file:{args.project}?mode=ro", uri=True) as db:
        scores = np.array([r[0] for r in db.execute("SELECT score FROM candidates WHERE score IS NOT NULL")], np.float64)
    if not scores.size:
        raise SystemExit(f"{args.project}: no scored candidates")
    scores = np.clip(scores, 1e-12, 1 - 1e-12)
    raw = np.log(scores / (1 - scores)) + old
    config["calibration"] = {"logit_offset": float(np.median(raw)), "from": f"median of {scores.size} candidates"}
    tmp = args.scorer_json.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(config, indent=1))
    tmp.replace(args.scorer_json)
    print(f"{args.scorer_json}: logit offset {config['calibration']['logit_offset']:.3f}")


if __name__ == "__main__":
    main()
