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


ROWS = ("Zero-noise", "Select")
DPO_MODELS = {"base": ("base", None), "DPO": ("dpo", "test"), "control (2D reprojection)": ("reprojection", "test")}
"""Finding 2's models: {row name: (stage key, part of its result that holds the report)}."""


def dpo_comparison(results: dict[str, Any], seeds: list[int], metrics: tuple[str, ...]
                   ) -> tuple[dict[str, dict], list[bool], list[bool], dict[str, dict]]:
    """Finding 2 of either track: (rows "<model> / <row>" of stats over seeds; the checks
    DPO < base and DPO < control per row and metric; which of them compare with the base;
    the per-seed DPO - base differences "DPO - base / <row> / <metric>")."""
    rows = {f"{name} / {row}": metric_rows(results, seeds, key, row, metrics, inner)
            for row in ROWS for name, (key, inner) in DPO_MODELS.items()}
    order = [(row, other, m) for row in ROWS for other in ("base", "control (2D reprojection)") for m in metrics]
    checks = [rows[f"DPO / {row}"][m]["mean"] < rows[f"{other} / {row}"][m]["mean"] for row, other, m in order]
    against_base = [c for c, (_, other, _) in zip(checks, order) if other == "base"]
    deltas = {f"DPO - base / {row} / {m}": stat([
        results[f"seed{r}/dpo"]["test"]["report"][row][m] - results[f"seed{r}/base"]["report"][row][m]
        for r in seeds]) for row in ROWS for m in metrics}
    return rows, checks, against_base, deltas


def cleaning_comparison(results: dict[str, Any], seeds: list[int], names: list[str], metrics: tuple[str, ...]
                        ) -> tuple[dict[str, dict], list[bool]]:
    """Finding 3 of either track: rows "<subset> / <row>" of stats over seeds for the
    fine-tunes on each subset (``names[0]`` = all), and the checks subset < all on the
    Zero-noise row per metric."""
    rows = {f"{n} / {row}": metric_rows(results, seeds, f"clean/{n}", row, metrics) for row in ROWS for n in names}
    checks = [rows[f"{n} / Zero-noise"][m]["mean"] < rows[f"{names[0]} / Zero-noise"][m]["mean"]
              for n in names[1:] for m in metrics]
    return rows, checks
