"""Numbers and verdicts of the findings tables, shared by both tracks' reports."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

METRICS = ("MPJPE", "PA-MPJPE", "PVE")


def stat(values: list[float]) -> dict[str, Any]:
    """mean, std (n - 1; 0 for one value), min, max and the values."""
    v = np.asarray(values, np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "values": [float(x) for x in v]}


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _verdict(checks: list[bool], needed: list[bool] | None = None) -> str:
    """needed: the checks of the claim itself (default: all); if none holds, not reproduced."""
    if not any(checks if needed is None else needed):
        return "not reproduced"
    return "reproduced" if all(checks) else "partly reproduced"


def _cell(s: dict[str, Any]) -> str:
    return f"{s['mean']:.1f} ± {s['std']:.1f}"



def metric_rows(results: dict[str, Any], seeds: list[int], key: str, row: str, metrics: tuple[str, ...],
                inner: str | None = "test") -> dict[str, dict[str, Any]]:
    """{metric: stat over seeds} of one report row of the stage results ``seed<r>/<key>``
    (its ``inner`` part when given)."""
    out = {}
    for m in metrics:
        vals = []
        for r in seeds:
            rec = results[f"seed{r}/{key}"]
            rec = rec[inner] if inner else rec
            vals.append(rec["report"][row][m])
        out[m] = stat(vals)
    return out
