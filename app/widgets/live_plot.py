"""Live plots of a job's metrics: one small pyqtgraph plot per chosen metric, redrawn a few
times a second.

Feed it metric reports (dicts of named scalars, as ``ProgressEvent.metrics`` and
``engine.jobs.job_metrics`` give them); the x axis is the report's ``step`` when it has
one (the trainers send it), else its ``fraction`` of the job in percent. A list beside the
plots picks which metrics to draw: losses, accuracies, margins and evaluation errors at
first. The x axis's name is said once, under the list, not under every small plot, and
ticks are small and few, so plots in a short dock keep their axes apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

NOT_PLOTTED = {"step", "fraction", "epoch"}
HEADLINE = ("loss", "acc", "margin", "mpjpe", "pve", "srcc", "plcc")
MAX_DEFAULT = 4
COLUMNS = 2
REDRAW_MS = 200
TICK_POINT_SIZE = 7
LEFT_AXIS_PX = 46
"""Room for the value ticks: the same in every plot, so their plot areas line up."""
X_CAPTIONS = {"step": "x: training step", "% done": "x: % of the job done"}
PALETTE = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207))


def x_of(report: Mapping[str, float | None]) -> float | None:
    step = report.get("step")
    if step is not None:
        return float(step)
    fraction = report.get("fraction")
    return None if fraction is None else 100.0 * float(fraction)


def is_headline(name: str) -> bool:
    """Metrics drawn without asking: losses, accuracies, margins, evaluation errors."""
    lower = name.lower()
    return any(word in lower for word in HEADLINE)


class LivePlot(QWidget):
    """``set_reports`` replaces the history, ``add_report`` appends one (redrawn on a timer)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chooser = QListWidget()
        self.chooser.setMaximumWidth(150)
        self.chooser.setToolTip("Metrics to plot")
        self.x_caption = QLabel()
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground("w")
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.chooser, 1)
        side.addWidget(self.x_caption)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(side)
        layout.addWidget(self.canvas, 1)
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.chosen: dict[str, bool] = {}
        """Choices made in the list, kept across jobs by metric name."""
        self.x_label = "% done"
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self.chooser.itemChanged.connect(self._toggled)

    def clear_reports(self) -> None:
        self.set_reports([])

    def set_reports(self, reports: Iterable[Mapping[str, float | None]]) -> None:
        self.series = {}
        self.x_label = "% done"
        for report in reports:
            self._append(report)
        self._layout_plots()
        self.redraw()

    def add_report(self, report: Mapping[str, float | None]) -> None:
        before = set(self.series)
        self._append(report)
        if set(self.series) != before:
            self._layout_plots()
        self._dirty = True

    def _append(self, report: Mapping[str, float | None]) -> None:
        x = x_of(report)
        if x is None:
            return
        if report.get("step") is not None:
            self.x_label = "step"
        for name, value in report.items():
            if name in NOT_PLOTTED or value is None or not math.isfinite(float(value)):
                continue
            xs, ys = self.series.setdefault(name, ([], []))
            xs.append(x)
            ys.append(float(value))

    def names(self) -> list[str]:
        """Every metric seen, headline ones first."""
        return sorted(self.series, key=lambda n: (not is_headline(n), n))

    def shown(self) -> list[str]:
        """The metrics plotted: those chosen in the list, else the headline ones."""
        names = self.names()
        defaults = [n for n in names if is_headline(n)][:MAX_DEFAULT] or names[:2]
        return [n for n in names if self.chosen.get(n, n in defaults)]

    def _layout_plots(self) -> None:
        names, shown = self.names(), self.shown()
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in shown else Qt.CheckState.Unchecked)
            self.chooser.addItem(item)
        self.chooser.blockSignals(False)
        self.chooser.setVisible(bool(names))
        self.x_caption.setVisible(bool(names))
        self.x_caption.setText(X_CAPTIONS.get(self.x_label, self.x_label))
        self.canvas.clear()
        self.plots, self.curves = {}, {}
        font = QFont()
        font.setPointSize(TICK_POINT_SIZE)
        for k, name in enumerate(shown):
            plot = self.canvas.addPlot(row=k // COLUMNS, col=k % COLUMNS, title=name)
            plot.showGrid(x=True, y=True, alpha=0.2)
            for side in ("bottom", "left"):
                axis = plot.getAxis(side)
                axis.enableAutoSIPrefix(False)
                axis.setStyle(tickFont=font, tickTextOffset=2)
            plot.getAxis("left").setWidth(LEFT_AXIS_PX)
            self.curves[name] = plot.plot(pen=pg.mkPen(PALETTE[names.index(name) % len(PALETTE)], width=2))
            self.plots[name] = plot
        self._dirty = True

    def _toggled(self, item: QListWidgetItem) -> None:
        self.chosen[item.text()] = item.checkState() == Qt.CheckState.Checked
        self._layout_plots()
        self.redraw()

    def redraw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for name, curve in self.curves.items():
            xs, ys = self.series.get(name, ([], []))
            curve.setData(xs, ys)

    def points(self, name: str) -> int:
        """How many points the curve of ``name`` shows (for tests)."""
        curve = self.curves.get(name)
        return 0 if curve is None or curve.xData is None else len(curve.xData)
