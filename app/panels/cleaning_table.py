"""The cleaning review's sample list: one row per pseudo-label, best score first.

Columns: thumbnail (the label's mesh on the crop), rank, score, the scorer's call at the
current threshold, the user's override, the final keep (a check box), image, person.
The model never writes to the store: ticking Keep emits ``toggleRequested(rows)`` and the
panel commits the override.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import QModelIndex, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont

from app.panels.cleaning_rules import final_keep, proposed_keep
from app.panels.cleaning_thumbs import ThumbnailQueue
from app.panels.column_table import ColumnTableModel
from engine import store

COLUMNS = ("Label", "Rank", "Score", "Scorer", "You", "Keep", "Image", "Person")
THUMB, RANK, SCORE, SCORER, YOU, KEEP, IMAGE, PERSON = range(len(COLUMNS))
KEEP_TINT = QColor(225, 245, 228)
DROP_TINT = QColor(250, 226, 224)


class CleaningTableModel(ColumnTableModel):
    """Rows = a cleaning run's decisions by descending score."""

    COLUMNS = COLUMNS
    TIPS = ("The pseudo-label's mesh over the person", None, "HMR-Scorer score of the label",
            "The scorer's call at the threshold shown on the histogram",
            "Your override (K keep, D drop, U back to the scorer's call)",
            "Kept in the cleaned dataset (tick to override)")

    toggleRequested = pyqtSignal(list)

    def __init__(self, thumbs: ThumbnailQueue) -> None:
        super().__init__()
        self.thumbs = thumbs
        self.decisions: list[store.CleaningDecisionRecord] = []
        self.persons: dict[int, tuple[Path, store.PersonRecord]] = {}
        self.scores = np.zeros(0)
        self.proposed = np.zeros(0, bool)
        self.keep = np.zeros(0, bool)
        self.threshold = 0.0
        self.rule = 0.0
        self._row_of: dict[int, int] = {}
        thumbs.ready.connect(self._thumb_ready)

    def set_rows(self, decisions: list[store.CleaningDecisionRecord],
                 persons: dict[int, tuple[Path, store.PersonRecord]], threshold: float) -> None:
        """A run's decisions (by descending score); ``threshold`` is the run's own rule
        (``cleaning_rules.rule_threshold``), where the calls are the stored ones."""
        self.beginResetModel()
        self.decisions = list(decisions)
        self.persons = persons
        self.scores = np.array([d.score for d in self.decisions], np.float64)
        self._row_of = {d.person_id: r for r, d in enumerate(self.decisions)}
        self.threshold = self.rule = float(threshold)
        self._recompute()
        self.endResetModel()

    def update_decisions(self, decisions: list[store.CleaningDecisionRecord]) -> None:
        """The same run re-read after overrides changed (rows keep their order)."""
        by_id = {d.id: d for d in decisions}
        self.decisions = [by_id.get(d.id, d) for d in self.decisions]
        self._recompute()
        self._changed(SCORER, KEEP)

    def set_threshold(self, threshold: float) -> None:
        self.threshold = float(threshold)
        self._recompute()
        self._changed(SCORER, KEEP)

    def _recompute(self) -> None:
        if self.threshold == self.rule:
            # The run's own calls: a top-fraction rule splits tied scores, a threshold cannot.
            self.proposed = np.array([d.auto_keep for d in self.decisions], bool)
        else:
            self.proposed = proposed_keep(self.scores, self.threshold)
        self.keep = final_keep(self.proposed, [d.override for d in self.decisions])

    def _changed(self, first: int, last: int) -> None:
        if self.decisions:
            self.dataChanged.emit(self.index(0, first), self.index(len(self.decisions) - 1, last))

    def _thumb_ready(self, person_id) -> None:
        row = self._row_of.get(person_id)
        if row is not None:
            ix = self.index(row, THUMB)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DecorationRole])

    # --- Qt model --------------------------------------------------------------------

    def row_total(self) -> int:
        return len(self.decisions)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        d = self.decisions[row]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == RANK:
                return str(row + 1)
            if col == SCORE:
                return f"{d.score:.3f}"
            if col == SCORER:
                return "keep" if self.proposed[row] else "drop"
            if col == YOU:
                return "" if d.override is None else ("keep" if d.override else "drop")
            if col == IMAGE:
                entry = self.persons.get(d.person_id)
                return entry[0].name if entry else "?"
            if col == PERSON:
                return str(d.person_id)
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == THUMB:
            pixmap = self.thumbs.get(d.person_id)
            if pixmap is None and d.person_id in self.persons:
                path, person = self.persons[d.person_id]
                self.thumbs.request(d.person_id, path, person)
            return pixmap
        if role == Qt.ItemDataRole.CheckStateRole and col == KEEP:
            return Qt.CheckState.Checked if self.keep[row] else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.BackgroundRole:
            return KEEP_TINT if self.keep[row] else DROP_TINT
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(20, 20, 20)
        if role == Qt.ItemDataRole.FontRole and col == YOU and d.override is not None:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (RANK, SCORE, PERSON):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == KEEP:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == KEEP:
            self.toggleRequested.emit([index.row()])
            return True
        return False

    def row_of_person(self, person_id: int) -> int | None:
        return self._row_of.get(person_id)
