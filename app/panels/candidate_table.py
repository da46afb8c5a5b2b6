"""The candidates of the current person: rank, score, errors, and a visibility check.

Selecting rows selects candidates in both views; the check box shows or hides a
candidate; every column sorts. Error columns appear when the person has a 3D label
(ground truth or a pseudo-label: the store then holds each candidate's errors against
it), one column per registered error metric (``engine.metric_registry``).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from app.candidate_set import CandidateSet
from engine.metric_registry import metrics
from app.panels.column_table import ColumnTableModel
from app.state import AppState
from app.widgets.sort_proxy import MissingLastProxy

HEAD = ("Rank", "Show", "Score")
HEAD_TIPS = (
    "1 = the scorer's best", "Show in the views (keys 1-9 toggle ranks 1-9)",
    "HMR-Scorer score, higher = better (candidates that agree with the rest of their run gain)",
)
TAIL = ("Run", "#")
TAIL_TIPS = ("Sampling run", "Index in its run")
ERROR_TIPS = {"mpjpe": "Mean per-joint error", "pa_mpjpe": "Procrustes-aligned per-joint error",
              "pve": "Per-vertex error"}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class CandidateTableModel(ColumnTableModel):
    """Rows = candidates of one set (row i = candidate i); columns: rank, show, score, one
    per error metric registered when the table is made, run, index."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        errors = metrics()
        self.COLUMNS = HEAD + tuple(m.title for m in errors) + TAIL
        self.TIPS = HEAD_TIPS + tuple(
            f"{ERROR_TIPS.get(m.name, m.title)}, {m.unit}" for m in errors) + TAIL_TIPS
        self.error_of_column = {len(HEAD) + i: m.name for i, m in enumerate(errors)}
        self.run_column = len(HEAD) + len(errors)
        self.state = state
        self.cset: CandidateSet | None = None
        self._ranks = np.zeros(0, np.int64)
        self._colors = np.zeros((0, 3), np.uint8)

    def reset(self) -> None:
        self.beginResetModel()
        self.cset = self.state.candidates
        self._ranks = self.cset.ranks() if self.cset is not None else np.zeros(0, np.int64)
        self._colors = self.state.colors()
        self.endResetModel()

    def visibility_changed(self) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 1), self.index(self.rowCount() - 1, 1))

    def row_total(self) -> int:
        return 0 if self.cset is None else len(self.cset)

    def _value(self, row: int, col: int):
        c = self.cset
        if col == 0:
            return int(self._ranks[row])
        if col == 1:
            return int(row in self.state.visible)
        if col == 2:
            return float(c.scores[row])
        if col in self.error_of_column:
            name = self.error_of_column[col]
            return float(c.errors[name][row]) if name in c.errors else float("nan")
        if col == self.run_column:
            return int(c.run_ids[row])
        return row

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.cset is None:
            return None
        row, col = index.row(), index.column()
        value = self._value(row, col)
        if role == SORT_ROLE:
            return None if isinstance(value, float) and not np.isfinite(value) else value
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 1:
                return None
            if isinstance(value, float):
                if not np.isfinite(value):
                    return "–"
                return f"{value:.3f}" if col == 2 else f"{value:.1f}"
            return str(value)
        if role == Qt.ItemDataRole.CheckStateRole and col == 1:
            return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == 0 and row < len(self._colors):
            return QColor(*(int(v) for v in self._colors[row]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 1:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == 1:
            checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
            self.state.set_visible(index.row(), checked)
            return True
        return False


class CandidateTable(QWidget):
    """The candidate panel: a sortable table bound to ``AppState``."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = CandidateTableModel(state)
        self.proxy = MissingLastProxy(SORT_ROLE, self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        # Sized once per candidate set: ResizeToContents would measure every cell on each change.
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(False)
        self.view.setAlternatingRowColors(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.summary = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self._syncing = False
        self.view.selectionModel().selectionChanged.connect(self._rows_selected)
        state.candidatesChanged.connect(self._reset)
        state.selectionChanged.connect(self._select_from_state)
        state.visibilityChanged.connect(self.model.visibility_changed)
        self._reset()

    def _reset(self) -> None:
        self._syncing = True
        self.model.reset()
        self._syncing = False
        c = self.state.candidates
        has_errors = c is not None and c.has_errors()
        for col in self.model.error_of_column:
            self.view.setColumnHidden(col, not has_errors)
        self.view.resizeColumnsToContents()
        if c is None:
            self.summary.setText("No candidates: sample this person (Ctrl+R)." if self.state.person
                                 else "No person selected.")
        else:
            runs = len(set(c.run_ids.tolist()))
            text = f"{len(c)} candidates from {runs} run{'s' if runs != 1 else ''}"
            if c.has_scores:
                lo, hi = c.score_range()
                text += f", scores {lo:.3f}–{hi:.3f}"
            if has_errors:
                source = self.state.person.label_source if self.state.person else None
                text += f", best MPJPE {np.nanmin(c.errors['mpjpe']):.1f} mm against the {source or ''} label"
            self.summary.setText(text)
        self._select_from_state()

    def _select_from_state(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            selection = QItemSelection()
            for i in self.state.selected:
                if i < self.model.rowCount():
                    left = self.proxy.mapFromSource(self.model.index(i, 0))
                    right = self.proxy.mapFromSource(self.model.index(i, self.model.columnCount() - 1))
                    selection.select(left, right)
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
            self.view.selectionModel().select(selection, flags)
            if self.state.selected and self.state.selected[0] < self.model.rowCount():
                self.view.scrollTo(self.proxy.mapFromSource(self.model.index(self.state.selected[0], 0)))
        finally:
            self._syncing = False

    def _rows_selected(self, *_args) -> None:
        if self._syncing:
            return
        rows = [self.proxy.mapToSource(ix).row() for ix in self.view.selectionModel().selectedRows()]
        self._syncing = True
        try:
            self.state.select(sorted(rows, key=lambda r: self.model._ranks[r]))
        finally:
            self._syncing = False

    def select_rows(self, rows: list[int]) -> None:
        """Select table rows as shown (after sorting), as a user clicking them would."""
        selection = QItemSelection()
        for r in rows:
            selection.select(self.proxy.index(r, 0), self.proxy.index(r, self.model.columnCount() - 1))
        self.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def candidate_at_row(self, row: int) -> int:
        """The candidate index shown at a (sorted) table row."""
        return self.proxy.mapToSource(self.proxy.index(row, 0)).row()
