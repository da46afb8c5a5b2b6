"""Colours shared by the 2D and 3D views and the legend.

Scores map through viridis (dark purple = the lowest score of the person, yellow = the
highest), a scale that stays readable for colour-blind users and in greyscale.
Candidates without scores get distinct hues by rank instead.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

SCORE_LUT: np.ndarray = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256)  # (256, 3) uint8
RANK_PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
], np.uint8)
KEYPOINT_COLOR = (255, 64, 64)
MASK_COLOR = (120, 255, 120)
BOX_COLOR = (0, 200, 255)
SELECTED_3D = (255, 170, 0)


def score_color(score: float, lo: float, hi: float) -> tuple[int, int, int]:
    """RGB of a score on the [lo, hi] scale (a flat range maps to the middle)."""
    t = 0.5 if hi - lo < 1e-9 else (score - lo) / (hi - lo)
    r, g, b = SCORE_LUT[int(np.clip(round(t * 255), 0, 255))]
    return int(r), int(g), int(b)


def candidate_colors(scores: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 colours: by score when every candidate has one, else by rank."""
    scores = np.asarray(scores, np.float64)
    if len(scores) and np.isfinite(scores).all():
        lo, hi = float(scores.min()), float(scores.max())
        return np.array([score_color(s, lo, hi) for s in scores], np.uint8).reshape(-1, 3)
    return RANK_PALETTE[(np.asarray(ranks) - 1) % len(RANK_PALETTE)].reshape(-1, 3)
