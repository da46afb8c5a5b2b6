"""The Cleaning panel's widgets, preview and keys; ``app.panels.cleaning_panel`` adds the logic.

Keys on the sample list: K keep, D drop, U back to the scorer's call (on every selected
row), Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y redo; the panel takes them before the window's
own shortcuts (K toggles keypoints there).
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QEvent, QItemSelection, QItemSelectionModel, QSize, Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.panels.cleaning_table import COLUMNS, THUMB, CleaningTableModel
from app.panels.cleaning_thumbs import LABEL_COLOR, THUMB_SIZE, ThumbnailQueue, label_set
from app.state import AppState
from app.widgets.ab_compare import FocusedOverlayView
from app.widgets.action_buttons import action_row, is_plain_key
from app.widgets.decision_history import is_redo_key, is_undo_key
from app.widgets.dock_room import make_room
from app.widgets.dock_visibility import DockVisibility
from app.widgets.score_histogram import ScoreHistogram
from engine.errors import AdhmrError
from engine.image_io import load_image

OVERRIDE_KEYS = {Qt.Key.Key_K: True, Qt.Key.Key_D: False, Qt.Key.Key_U: None}
DOCK_HEIGHT_HINT = 216
"""Preferred height (px): a bottom dock as tall as the candidate table's."""


def handles_key(event) -> bool:
    if is_undo_key(event) or is_redo_key(event):
        return True
    return is_plain_key(event) and event.key() in OVERRIDE_KEYS


class CleaningView(QWidget):
    """Widgets of the Cleaning panel. Subclasses provide override_selected, the history
    (undo/redo) and the slots the buttons call."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._stale = False
        self.visibility = DockVisibility(self)
        self.visibility.changed.connect(self._on_screen_changed)
        self.thumbs = ThumbnailQueue(state.decoder, parent=self)
        self.model = CleaningTableModel(self.thumbs)
        self._preview_row: tuple[int, str, bool] | None = None

        self.dataset_combo = QComboBox()
        self.dataset_combo.setMinimumContentsLength(14)
        self.run_combo = QComboBox()
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.clean_button = QPushButton("Clean with the scorer…")
        self.clean_button.setToolTip("Score every pseudo-label of the dataset and propose what to drop (a 'clean' job)")
        self.export_button = QPushButton("Export cleaned…")
        self.export_button.setToolTip("Write the kept samples as a dataset file")
        self.summary = QLabel()
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 2)
        top.addWidget(QLabel("Dataset"))
        top.addWidget(self.dataset_combo)
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_combo)
        top.addWidget(self.clean_button)
        top.addStretch(1)
        top.addWidget(self.summary)
        top.addWidget(self.export_button)

        self.histogram = ScoreHistogram()
        self.histogram.setMinimumHeight(60)
        self.keep_spin = QDoubleSpinBox()
        self.keep_spin.setRange(0.0, 100.0)
        self.keep_spin.setDecimals(1)
        self.keep_spin.setSuffix(" % kept")
        self.keep_spin.setToolTip("Keep this share of the samples, best scores first (moves the threshold)")
        self.rule_label = QLabel()
        self.rule_label.setWordWrap(True)
        self.save_rule_button = QPushButton("Save threshold as a new run")
        self.save_rule_button.setToolTip("Record the scorer's calls at this threshold as a new run "
                                         "(your overrides are carried over)")
        self.preview = FocusedOverlayView()
        # The mesh is what is judged: the keypoints (over it) only when asked for.
        self.preview.show_keypoints = False
        self.preview.setMinimumHeight(40)  # the dock grows when shown (make_room); small docks stay possible
        self.preview_keypoints = QCheckBox("Keypoints")
        self.preview_keypoints.setToolTip("Draw the person's 2D keypoints over the pseudo-label's mesh")
        self.preview_keypoints.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.preview_keypoints.toggled.connect(self.preview.set_show_keypoints)
        self.preview_info = QLabel()
        self.preview_info.setWordWrap(True)
        self.preview_info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.histogram, 3)
        row = QHBoxLayout()
        row.addWidget(self.keep_spin)
        row.addWidget(self.save_rule_button)
        left_layout.addLayout(row)
        left_layout.addWidget(self.rule_label)
        left_layout.addWidget(self.preview, 4)
        caption = QHBoxLayout()
        caption.addWidget(self.preview_info, 1)
        caption.addWidget(self.preview_keypoints)
        left_layout.addLayout(caption)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_SIZE + 4)
        self.table.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(THUMB, THUMB_SIZE + 12)
        self.table.installEventFilter(self)
        actions, self.buttons = action_row((
            ("keep", "Keep  [K]", "Keep the selected samples", lambda: self.override_selected(True)),
            ("drop", "Drop  [D]", "Drop the selected samples", lambda: self.override_selected(False)),
            ("reset", "Scorer's call  [U]", "Remove your override of the selected samples",
             lambda: self.override_selected(None)),
            ("undo", "Undo  [Ctrl+Z]", "Undo the last override", lambda: self.history.undo()),
            ("redo", "Redo  [Ctrl+Shift+Z]", "Redo the override undone last", lambda: self.history.redo()),
        ), stretch_after="reset")
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.addWidget(self.table, 1)
        center_layout.addLayout(actions)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(center)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        for w in (self.summary, self.rule_label):
            w.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._preview(cur.row()))

    def sizeHint(self) -> QSize:
        # Not the contents' wishes: the photo and 3D views keep most of the window.
        return QSize(900, DOCK_HEIGHT_HINT)

    def selected_rows(self) -> list[int]:
        return sorted(ix.row() for ix in self.table.selectionModel().selectedRows())

    def select_rows(self, rows: list[int]) -> None:
        selection = QItemSelection()
        for r in rows:
            selection.select(self.model.index(r, 0), self.model.index(r, len(COLUMNS) - 1))
        self.table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if rows:
            self.table.selectionModel().setCurrentIndex(self.model.index(rows[0], 0),
                                                        QItemSelectionModel.SelectionFlag.NoUpdate)

    # --- preview ---------------------------------------------------------------------------

    def _preview(self, row: int) -> None:
        if not 0 <= row < len(self.model.decisions):
            self.preview.clear_photo()
            self.preview_info.setText("")
            self._preview_row = None
            return
        d = self.model.decisions[row]
        entry = self.model.persons.get(d.person_id)
        if entry is None:
            return
        path, person = entry
        try:
            rgb = load_image(path)
        except AdhmrError as exc:
            self.preview_info.setText(str(exc))
            return
        try:
            decoder = self.state.decoder()
        except AdhmrError:
            decoder = None
        label = label_set(person, decoder, d.score)
        self.preview.set_photo(rgb)
        self.preview.set_candidates(label, np.array([LABEL_COLOR], np.uint8))
        self.preview.set_shown([0] if label is not None else [])
        self.preview.set_keypoints(person.keypoints)
        self.preview.set_focus_box(person.box)
        self._preview_row = (row, path.name, label is not None)
        self.update_caption()

    def update_caption(self) -> None:
        """The preview's caption: which sample, its score and its call now (after K / D /
        U or a moved threshold too)."""
        if self._preview_row is None or self._preview_row[0] >= len(self.model.decisions):
            return
        row, name, has_label = self._preview_row
        d = self.model.decisions[row]
        call = "kept" if self.model.keep[row] else "dropped"
        who = "by you" if d.override is not None else "by the scorer"
        self.preview_info.setText(f"{name} · person {d.person_id} · score {d.score:.3f} · {call} {who}"
                                  + ("" if has_label else " · no 3D label"))

    # --- keys ------------------------------------------------------------------------------

    def _key(self, event) -> bool:
        if is_redo_key(event):
            self.history.redo()
        elif is_undo_key(event):
            self.history.undo()
        elif handles_key(event):
            self.override_selected(OVERRIDE_KEYS[event.key()])
        else:
            return False
        return True

    def eventFilter(self, obj, event) -> bool:
        if obj is self.table:
            if event.type() == QEvent.Type.ShortcutOverride and handles_key(event):
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress and self._key(event):
                return True
        return super().eventFilter(obj, event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and handles_key(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if not self._key(event):
            super().keyPressEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._on_screen_changed(self.visibility.on_screen)

    def _on_screen_changed(self, on_screen: bool) -> None:
        if on_screen:
            make_room(self)
        if on_screen and self._stale:
            self.refresh()
