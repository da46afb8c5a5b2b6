"""The real-footage track's findings: statistics over seeds, verdicts and markdown.

The same rules as the synthetic track (``report``): mean over seeds ± sample standard
deviation; a finding "reproduces" when the seed means order as the paper says for every
metric of every row it is about, "partly" when some do, "not reproduced" when none do
(for finding 2: when DPO beats the base model on none). The metrics are MPJPE and
PA-MPJPE on the 12 limb joints (no mesh to compare: the reference is triangulated joints).
"""

from __future__ import annotations

import math
from typing import Any

from engine.experiments.budgets import RealBudget
from engine.experiments.report_cells import (
    _cell, _num, _verdict, cleaning_comparison, dpo_comparison, metric_rows, stat,
)

METRICS = ("MPJPE", "PA-MPJPE")
REAL_HEADING = "# The findings on real footage"


def build_real_findings(results: dict[str, Any], b: RealBudget, settings: dict[str, Any]) -> dict[str, Any]:
    """The three findings of the real track from the stage results of ``real_runner``."""
    seeds = [r for r in range(b.seeds) if f"seed{r}/base" in results]
    rows1 = {row: metric_rows(results, seeds, "base", row, METRICS, None) for row in ("Min", "Select", "Zero-noise", "Mean")}
    checks1 = [rows1["Select"][m]["mean"] < rows1[other][m]["mean"]
               for other in ("Zero-noise", "Mean") for m in METRICS]
    srcc = stat([_num(results[f"seed{r}/base"]["correlation"].get("MPJPE", {}).get("srcc")) for r in seeds])
    holding = sum(all(results[f"seed{r}/base"]["report"]["Select"][m] < results[f"seed{r}/base"]["report"][o][m]
                      for m in METRICS for o in ("Zero-noise", "Mean")) for r in seeds)
    f1 = {"title": "Scorer selection beats chance on real test views", "rows": rows1,
          "criterion": "Select < Zero-noise and Select < Mean, MPJPE and PA-MPJPE (means over seeds)",
          "verdict": _verdict(checks1), "checks": checks1, "scorer_srcc_MPJPE": srcc, "seeds_holding": holding}

    rows2, checks2, lowers2, deltas = dpo_comparison(results, seeds, METRICS)
    train = {k: stat([_num(results[f"seed{r}/dpo"]["train"].get(k)) for r in seeds])
             for k in ("implicit_acc", "reward_margin", "dpo_loss")}
    pairs = {k: stat([_num(results[f"seed{r}/pairs"].get(k)) for r in seeds]) for k in ("count", "mean_margin")}
    f2 = {"title": "DPO on unlabelled real frames lowers the error on held-out frames", "rows": rows2,
          "deltas": deltas, "verdict": _verdict(checks2, needed=lowers2), "checks": checks2,
          "criterion": "DPO < base and DPO < control, Zero-noise and Select rows, MPJPE and PA-MPJPE "
                       "(means over seeds)", "dpo_training_last_log": train, "pairs": pairs}

    names = ["all"] + [f"top{round(f * 100)}" for f in b.keep_fractions]
    rows3, checks3 = cleaning_comparison(results, seeds, names, METRICS)
    first = seeds[0] if seeds else 0
    f3 = {"title": "Fine-tuning on the scorer's cleaned fit pseudo-labels beats fine-tuning on all of them",
          "rows": rows3, "verdict": _verdict(checks3), "checks": checks3,
          "criterion": "each cleaned subset < all, Zero-noise row, MPJPE and PA-MPJPE (means over seeds)",
          "kept": {n: results[f"seed{first}/clean/{n}"]["kept"] for n in names if seeds},
          "pseudo_labels": len(results["clean_scores"]["scores"]),
          "fit_reprojection_px": results["clean_scores"]["fit_reprojection_px"]}
    return {"settings": {**settings, "seeds": seeds}, "finding1": f1, "finding2": f2, "finding3": f3}


def _table(rows: dict[str, dict]) -> list[str]:
    lines = ["| | " + " | ".join(f"{m} (mm)" for m in METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    lines += [f"| {name} | " + " | ".join(_cell(vals[m]) for m in METRICS) + " |" for name, vals in rows.items()]
    return lines


def _every(n: int) -> str:
    return "every frame" if n == 1 else f"every {n}{ {2: 'nd', 3: 'rd'}.get(n, 'th')} frame"


def real_markdown(f: dict[str, Any]) -> str:
    """The real track's section of findings.md."""
    s, b, d = f["settings"], f["settings"]["budget_settings"], f["settings"]["data"]
    n = len(s["seeds"])
    f1, f2, f3 = f["finding1"], f["finding2"], f["finding3"]
    srcc = f1["scorer_srcc_MPJPE"]
    lines = [
        f"{REAL_HEADING} (Pose2Sim's four-camera recording)", "",
        f"Measured by `adhmr experiment --track real --budget {s['budget']}` on {s['device']}: mean ± standard "
        f"deviation over {n} seeds. Unlabelled pool: {_every(b['pool_stride'])} of frames 0-59 of all four "
        f"cameras ({d['pool_people']} people); test: {_every(b['test_stride'])} of frames 60-99, "
        f"{d['test_frames_kept']} of {d['test_frames']} frames kept by the triangulation (mean reprojection error "
        f"{d['kept_error_px']:.1f} px, at most {b['max_error_px']:g} px), {d['test_views']} views. Each view is "
        "compared with the body triangulated from all four cameras, turned into its camera and crop ray, hip midpoints "
        "aligned, on the 12 limb joints (`adhmr eval-multiview`'s protocol); PA-MPJPE after Procrustes "
        "alignment. The reference comes from the same detector the models read, so it favours agreeing with it.", "",
        f"- base model: `{s['base']}` (sha256 {s.get('base_sha256')}..., detector inputs: "
        f"{'yes' if s.get('detector_inputs') else 'no'}); scorer: `{s['scorer']}` "
        f"(sha256 {s.get('scorer_sha256')}...); {b['eval_M']} hypotheses per test view",
        f"- compute: {s['compute_seconds']:.0f} s over all stages ({s.get('cpu_seconds', 0):.0f} s of CPU time)", "",
        f"## 1. {f1['title']}: {f1['verdict']}", "", *_table(f1["rows"]), "",
        f"Criterion: {f1['criterion']}. It holds on {f1['seeds_holding']} of {n} seeds. The scorer's per-view "
        f"Spearman correlation with MPJPE: {srcc['mean']:.3f} ± {srcc['std']:.3f}.", "",
        f"## 2. {f2['title']}: {f2['verdict']}", "",
        f"{f2['pairs']['count']['mean']:.0f} pairs per seed from {b['pair_candidates']} candidates per pool person; "
        f"DPO and the control each ran {b['dpo_steps']} steps of {b['dpo_batch']} pairs, lr {b['dpo_lr']:g}, "
        f"β = {b['beta']:g}.", "", *_table(f2["rows"]), "",
        "Change of DPO against the base model, per seed then averaged:", "",
        "| | mean ± std (mm) |", "|---|---:|",
        *[f"| {k} | {v['mean']:+.1f} ± {v['std']:.1f} |" for k, v in f2["deltas"].items()], "",
        f"Last logged DPO step: implicit accuracy {f2['dpo_training_last_log']['implicit_acc']['mean']:.2f}. "
        f"Criterion: {f2['criterion']}.", "",
        f"## 3. {f3['title']}: {f3['verdict']}", "",
        f"{f3['pseudo_labels']} pseudo-labels: the body fit to each pool person's keypoints and world landmarks "
        f"(mean reprojection error {f3['fit_reprojection_px']:.1f} px), scored by the scorer; kept: "
        + ", ".join(f"{k} {v}" for k, v in f3["kept"].items())
        + f". Each subset fine-tuned the base model for {b['clean_steps']} steps of {b['clean_batch']}, "
        f"lr {b['clean_lr']:g}.", "", *_table(f3["rows"]), "",
        f"Criterion: {f3['criterion']}.", "",
    ]
    if math.isfinite(srcc["mean"]) and f1["verdict"] != "reproduced":
        lines += [f"Selection can only beat the zero-noise hypothesis where the scorer ranks the base model's own "
                  f"samples of these views: its per-view Spearman correlation with MPJPE is {srcc['mean']:.2f}.", ""]
    return "\n".join(lines) + "\n"
