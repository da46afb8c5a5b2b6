"""The keep rule of a cleaning review as a score threshold (no Qt here).

A cleaning run stores the scorer's keep/drop call per sample under its own rule (keep
the top fraction, or keep scores at or above a threshold) and the user's overrides. The
review shows that rule as a threshold on the score histogram; moving it proposes other
calls, which become a new run only when saved (the stored run never changes under the
user's hands).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine import store

NOTHING_KEPT_MARGIN = 1e-6


def rule_threshold(run: store.CleaningRunRecord, decisions: Sequence[store.CleaningDecisionRecord]) -> float:
    """The threshold that reproduces the run's own calls: its threshold, or the lowest
    score it kept (just above the highest score when it kept none)."""
    if run.threshold is not None:
        return float(run.threshold)
    kept = [d.score for d in decisions if d.auto_keep]
    if kept:
        return float(min(kept))
    return float(max((d.score for d in decisions), default=0.0)) + NOTHING_KEPT_MARGIN


def threshold_for_fraction(scores: np.ndarray, fraction: float) -> float:
    """The threshold keeping the top ``fraction`` (rounded to whole samples) of ``scores``."""
    s = np.sort(np.asarray(scores, np.float64))[::-1]
    if s.size == 0:
        return 0.0
    k = int(round(float(np.clip(fraction, 0.0, 1.0)) * s.size))
    return float(s[k - 1]) if k > 0 else float(s[0]) + NOTHING_KEPT_MARGIN


def proposed_keep(scores: np.ndarray, threshold: float) -> np.ndarray:
    """(N,) bool: the scorer's call at ``threshold`` (keep scores at or above it)."""
    return np.asarray(scores, np.float64) >= threshold


def final_keep(proposed: np.ndarray, overrides: Sequence[bool | None]) -> np.ndarray:
    """(N,) bool: the user's override where there is one, else the proposed call."""
    return np.array([p if o is None else bool(o) for p, o in zip(proposed, overrides)], bool)


def describe_rule(run: store.CleaningRunRecord) -> str:
    if run.threshold is not None:
        return f"keep score ≥ {run.threshold:.3f}"
    if run.keep_fraction is not None:
        return f"keep the top {100 * run.keep_fraction:.0f}%"
    return "no rule"
