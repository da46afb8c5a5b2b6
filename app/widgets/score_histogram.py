"""A histogram of scores with a draggable threshold (pyqtgraph ``InfiniteLine(movable=True)``).

Bars at or above the threshold are drawn in the keep colour, the others in the drop
colour; dragging the line recolours them and emits ``thresholdChanged`` (a score) on
every move.

A scorer that saturates puts every score within a hair of 1 (0.99996-1.00004 on an axis
of scores): then the x axis is the logit of the score, log(s / (1 - s)), which spreads
them out again, and where even that cannot tell them apart, their rank (the share of
samples scoring lower). The line and the signal still speak in scores.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QWidget

KEEP_COLOR = (80, 170, 90)
DROP_COLOR = (200, 75, 65)
MAX_BINS = 40
MIN_BINS = 10
TINY_SPREAD = 0.01
"""Scores closer together than this (highest minus lowest) are shown on the logit scale."""
TINY_LOGIT_SPREAD = 0.05
"""Logits closer together than this are shown by rank."""
LOGIT_EPS = 1e-7
"""Scores are clipped to [eps, 1 - eps] before the logit (a stored 1.0 has none)."""
AXIS_LABELS = {"score": "score", "logit": "logit of the score, log(s / (1 − s))",
               "rank": "rank: % of samples scoring lower"}


def logit(scores: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(scores, np.float64), LOGIT_EPS, 1 - LOGIT_EPS)
    return np.log(p / (1 - p))


def choose_scale(scores: np.ndarray) -> str:
    """'score', or 'logit' when the scores bunch within ``TINY_SPREAD``, or 'rank' when
    even their logits do."""
    if scores.size < 2 or np.ptp(scores) >= TINY_SPREAD:
        return "score"
    return "logit" if np.ptp(logit(scores)) >= TINY_LOGIT_SPREAD else "rank"


class ScoreHistogram(pg.PlotWidget):
    """Call ``set_scores``; read or set ``threshold``; listen to ``thresholdChanged``."""

    thresholdChanged = pyqtSignal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.setLabel("bottom", "score")
        self.setLabel("left", "samples")
        for axis in ("bottom", "left"):
            self.getAxis(axis).enableAutoSIPrefix(False)
        self.getPlotItem().showGrid(x=False, y=True, alpha=0.2)
        self.bars = pg.BarGraphItem(x0=[], x1=[], height=[], brushes=[])
        self.addItem(self.bars)
        self.line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen((30, 30, 30), width=2),
                                    hoverPen=pg.mkPen((0, 90, 200), width=3),
                                    label="keep ≥ {value:.3f}", labelOpts={"position": 0.9, "color": (30, 30, 30),
                                                                          "fill": (255, 255, 255, 200)})
        self.line.setZValue(10)
        self.addItem(self.line)
        self.edges = np.zeros(0)
        self.counts = np.zeros(0, np.int64)
        self.scale = "score"
        self._sorted = np.zeros(0)
        self._quiet = False
        self.line.sigPositionChanged.connect(self._moved)

    @property
    def threshold(self) -> float:
        """The keep threshold as a score."""
        return self.to_score(float(self.line.value()))

    def to_axis(self, scores):
        """Scores -> x positions on the current scale."""
        scores = np.asarray(scores, np.float64)
        if self.scale == "logit":
            return logit(scores)
        if self.scale == "rank":
            return 100.0 * np.searchsorted(self._sorted, scores, side="left") / max(len(self._sorted), 1)
        return scores

    def to_score(self, x: float) -> float:
        """An x position on the current scale -> the score there (the lowest score kept)."""
        if self.scale == "logit":
            return float(1 / (1 + np.exp(-x)))
        if self.scale == "rank":
            n = len(self._sorted)
            return float(self._sorted[min(max(int(np.ceil(x / 100 * n - 1e-9)), 0), n - 1)]) if n else 0.0
        return float(x)

    def set_scores(self, scores: np.ndarray, threshold: float) -> None:
        """scores: (N,) float; the line starts at ``threshold`` (no signal)."""
        self._quiet = True  # new bounds clamp the old value: not a user's move
        try:
            self._set_scores(scores)
        finally:
            self._quiet = False
        self.set_threshold(threshold)

    def _set_scores(self, scores: np.ndarray) -> None:
        scores = np.asarray(scores, np.float64)
        scores = scores[np.isfinite(scores)]
        self._sorted = np.sort(scores)
        self.scale = choose_scale(scores)
        self.setLabel("bottom", AXIS_LABELS[self.scale])
        if scores.size:
            x = self.to_axis(scores)
            lo, hi = float(x.min()), float(x.max())
            pad = max(hi - lo, 1e-3) * 0.05
            bins = int(np.clip(2 * np.sqrt(scores.size), MIN_BINS, MAX_BINS))
            self.counts, self.edges = np.histogram(x, bins=bins, range=(lo - pad, hi + pad))
            self.line.setBounds((lo - pad, hi + pad))
        else:
            self.counts, self.edges = np.zeros(0, np.int64), np.zeros(0)
            self.line.setBounds((None, None))
        self.bars.setOpts(x0=self.edges[:-1], x1=self.edges[1:], height=self.counts, brushes=[])
        if self.edges.size:
            self.setXRange(self.edges[0], self.edges[-1], padding=0)
            self.setYRange(0, max(int(self.counts.max()), 1) * 1.1, padding=0)

    def set_threshold(self, value: float, emit: bool = False) -> None:
        """Move the line (without emitting ``thresholdChanged`` unless ``emit``)."""
        self._quiet = not emit
        try:
            self.line.setValue(float(self.to_axis(float(value))))
        finally:
            self._quiet = False
        self._recolour()

    def _recolour(self) -> None:
        """Bars right of the line in the keep colour; the line's label in scores."""
        x = float(self.line.value())
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        self.bars.setOpts(brushes=[pg.mkBrush(*(KEEP_COLOR if c >= x else DROP_COLOR)) for c in centres])
        self.line.label.setFormat(f"keep ≥ {self.threshold:.3f}" if self.scale == "score" else
                                  f"keep ≥ {self.threshold:.6f}")

    def _moved(self) -> None:
        self._recolour()
        if not self._quiet:
            self.thresholdChanged.emit(self.threshold)
