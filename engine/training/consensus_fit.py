"""Choose a scorer's sample-consensus weight on labelled held-out people.

The weight (logit units per mm of mean sibling distance, ``engine.models.consensus``) is
one number fitted after the network is trained: the grid value whose scores rank each
person's base-model samples best, measured as the per-person Spearman correlation with
each true error, averaged over the errors with the weights the scorer was trained with
(a scorer trained with PA-MPJPE x4 is fitted with PA-MPJPE x4 too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.errors import ShapeError
from engine.metrics import ranking_correlation
from engine.models.consensus import consensus_adjustment

DEFAULT_GRID = tuple(round(0.0025 * i, 4) for i in range(41))
"""0 ... 0.1 logit units per mm."""


@dataclass(frozen=True)
class ConsensusFit:
    """weight: the chosen logit units per mm. table: one row per grid weight,
    {'weight', 'objective', and each error's SRCC}."""

    weight: float
    table: tuple[dict[str, float], ...]


def fit_consensus_weight(
    logits: np.ndarray,
    sibling_mm: np.ndarray,
    errors: dict[str, np.ndarray],
    error_weights: dict[str, float] | None = None,
    grid: tuple[float, ...] = DEFAULT_GRID,
) -> ConsensusFit:
    """The grid weight that best ranks the samples (ties: the smaller weight).

    logits: (N, M) the network's logits; sibling_mm: (N, M) mean distance to the
    siblings, mm; errors: {name: (N, M)} true errors; error_weights: {name: weight},
    names not given weigh 1.
    """
    logits, sibling_mm = np.asarray(logits, np.float64), np.asarray(sibling_mm, np.float64)
    if logits.ndim != 2 or logits.shape != sibling_mm.shape or logits.shape[1] < 2:
        raise ShapeError(f"consensus fit: logits {logits.shape} and distances {sibling_mm.shape} must share (N, M >= 2)")
    if not errors or not grid:
        raise ShapeError("consensus fit: needs at least one error and one grid weight")
    weights = {name: float((error_weights or {}).get(name, 1.0)) for name in errors}
    total = sum(weights.values())
    rows = []
    for w in grid:
        adjusted = logits + consensus_adjustment(torch.from_numpy(sibling_mm), w).double().numpy()
        srcc = {name: ranking_correlation(adjusted, np.asarray(e)).srcc for name, e in errors.items()}
        objective = sum(weights[n] * srcc[n] for n in errors) / total
        rows.append({"weight": float(w), "objective": float(objective), **{n: float(v) for n, v in srcc.items()}})
    best = max(rows, key=lambda r: (r["objective"], -r["weight"]))
    return ConsensusFit(best["weight"], tuple(rows))
