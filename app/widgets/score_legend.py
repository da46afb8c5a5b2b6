"""The colour scale under the image view: what colour means which score."""

from __future__ import annotations

from PyQt6.QtCore import QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QLinearGradient, QPainter, QPen
from PyQt6.QtWidgets import QSizePolicy, QWidget

from app.colors import SCORE_LUT

GRADIENT_STOPS = 16


class ScoreLegend(QWidget):
    """A horizontal viridis bar labelled with the lowest and highest score shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.range: tuple[float, float] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Candidate colour by scorer score (lowest to highest of this person)")

    def sizeHint(self) -> QSize:
        return QSize(240, 26)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 26)

    def set_range(self, score_range: tuple[float, float] | None) -> None:
        """(lowest, highest) score of the current person, or None when unscored."""
        self.range = score_range
        self.update()

    def text(self) -> str:
        if self.range is None:
            return "no scores: colours by rank"
        return f"score {self.range[0]:.3f} … {self.range[1]:.3f}"

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        pal = self.palette()
        p.setPen(QPen(pal.windowText().color()))
        if self.range is None:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.text())
            return
        lo_text, hi_text = f"{self.range[0]:.3f}", f"{self.range[1]:.3f}"
        label = "score"
        x = 4
        p.drawText(QRectF(x, 0, fm.horizontalAdvance(label) + 4, self.height()),
                   Qt.AlignmentFlag.AlignVCenter, label)
        x += fm.horizontalAdvance(label) + 10
        p.drawText(QRectF(x, 0, fm.horizontalAdvance(lo_text) + 4, self.height()),
                   Qt.AlignmentFlag.AlignVCenter, lo_text)
        x += fm.horizontalAdvance(lo_text) + 6
        right = self.width() - fm.horizontalAdvance(hi_text) - 10
        bar = QRectF(x, 6, max(10.0, right - x), self.height() - 12)
        grad = QLinearGradient(bar.topLeft(), bar.topRight())
        for k in range(GRADIENT_STOPS + 1):
            t = k / GRADIENT_STOPS
            r, g, b = SCORE_LUT[int(round(t * 255))]
            grad.setColorAt(t, QColor(int(r), int(g), int(b)))
        p.fillRect(bar, grad)
        p.setPen(QPen(QColor(0, 0, 0, 120), 1))
        p.drawRect(bar)
        p.setPen(QPen(pal.windowText().color()))
        p.drawText(QRectF(bar.right() + 6, 0, fm.horizontalAdvance(hi_text) + 4, self.height()),
                   Qt.AlignmentFlag.AlignVCenter, hi_text)
