"""A histogram of scores with a draggable threshold (pyqtgraph ``InfiniteLine(movable=True)``).

Bars at or above the threshold are drawn in the keep colour, the others in the drop
colour; dragging the line recolours them and emits ``thresholdChanged`` on every move.
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
        self._quiet = False
        self.line.sigPositionChanged.connect(self._moved)

    @property
    def threshold(self) -> float:
        return float(self.line.value())

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
        if scores.size:
            lo, hi = float(scores.min()), float(scores.max())
            pad = max(hi - lo, 1e-3) * 0.05
            bins = int(np.clip(2 * np.sqrt(scores.size), MIN_BINS, MAX_BINS))
            self.counts, self.edges = np.histogram(scores, bins=bins, range=(lo - pad, hi + pad))
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
            self.line.setValue(float(value))
        finally:
            self._quiet = False
        self.bars.setOpts(brushes=self._brushes(self.threshold))

    def _brushes(self, threshold: float) -> list:
        if self.edges.size == 0:
            return []
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        return [pg.mkBrush(*(KEEP_COLOR if c >= threshold else DROP_COLOR)) for c in centres]

    def _moved(self) -> None:
        self.bars.setOpts(brushes=self._brushes(self.threshold))
        if not self._quiet:
            self.thresholdChanged.emit(self.threshold)
