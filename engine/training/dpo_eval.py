"""Held-out evaluation during fine-tuning, as flat metrics for logs and live plots."""

from __future__ import annotations

from pathlib import Path
from engine.evaluation import EvalResult, evaluate


def flat_metrics(result: EvalResult, prefix: str = "eval") -> dict[str, float]:
    """{'eval_<Row>_<metric>': mm} for each row (Min, Select, Zero-noise, Mean) and metric
    (MPJPE, PA-MPJPE, PVE) of an evaluation."""
    out = {}
    for row, values in result.report.to_dict().items():
        for metric, v in values.items():
            out[f"{prefix}_{row}_{metric}"] = float(v)
    return out


def evaluate_checkpoint(
    checkpoint: str | Path,
    data: str | Path,
    scorer: str | Path | None,
    M: int,
    max_images: int,
    seed: int,
    device: str,
) -> dict[str, float]:
    """Evaluate a saved checkpoint on a labelled file (the first ``max_images`` people,
    M hypotheses, the scorer's Select row when a scorer is given)."""
    result = evaluate(checkpoint, scorer, data, M=M, max_images=max_images, seed=seed, device=device,
                      use_scorer=scorer is not None)
    return flat_metrics(result)
