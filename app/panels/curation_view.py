"""The Pairs panel's widgets, texts and keys; ``app.panels.curation_panel`` adds the logic.

Keys (while the panel has focus): A or ← = A is better, B or → = B is better, X = both
bad, S = skip, N / Space = next pair, P = previous, Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y
redo. The panel takes them before the window's own shortcuts (A, B, ...) would.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.panels.curation_queue import MODES, SCOPES, PairItem
from app.state import AppState
from app.widgets.ab_compare import ABCompare
from app.widgets.action_buttons import action_row, is_plain_key
from app.widgets.decision_history import is_redo_key, is_undo_key
from app.widgets.dock_room import make_room
from app.widgets.dock_visibility import DockVisibility
from engine.projects.pairs import log_odds

CHOICE_KEYS = {
    Qt.Key.Key_A: "a", Qt.Key.Key_Left: "a", Qt.Key.Key_L: "a",
    Qt.Key.Key_B: "b", Qt.Key.Key_Right: "b", Qt.Key.Key_R: "b",
    Qt.Key.Key_X: "both_bad", Qt.Key.Key_S: "skip",
}
MOVE_KEYS = {Qt.Key.Key_N: 1, Qt.Key.Key_Space: 1, Qt.Key.Key_P: -1}
CHOICE_TEXT = {"a": "A is better", "b": "B is better", "both_bad": "both bad", "skip": "skipped"}
DOCK_HEIGHT_HINT = 216
"""Preferred height (px): a bottom dock as tall as the candidate table's."""


def handles_key(event) -> bool:
    """Whether the panel takes this key (so the window's own shortcuts, A, B, ..., wait)."""
    if is_undo_key(event) or is_redo_key(event):
        return True
    return is_plain_key(event) and (event.key() in CHOICE_KEYS or event.key() in MOVE_KEYS)


class CurationView(QWidget):
    """Widgets of the Pairs panel. Subclasses provide decide, move, undo, redo and
    ``_settings_changed`` / ``_picked`` / ``_show_current`` / ``rebuild``."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._busy = False
        self._stale = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.visibility = DockVisibility(self)
        self.visibility.changed.connect(self._on_screen_changed)

        self.mode_combo = QComboBox()
        for key, text in MODES.items():
            self.mode_combo.addItem(text, key)
        self.mode_combo.setToolTip("Which pairs to go through")
        self.scope_combo = QComboBox()
        for key, text in SCOPES.items():
            self.scope_combo.addItem(text, key)
        self.scope_combo.setToolTip("The current person's pairs, or every person's (opens each pair's image)")
        self.pick_a = QComboBox()
        self.pick_b = QComboBox()
        for combo, side in ((self.pick_a, "A"), (self.pick_b, "B")):
            combo.setToolTip(f"Free pick: the candidate shown as {side} (or select two rows in the Candidates table)")
            combo.setMinimumContentsLength(12)
        self.pick_label = QLabel("A:")
        self.pick_label_b = QLabel("B:")
        self.show_scorer = QCheckBox("Show the scorer's opinion")
        self.show_scorer.setChecked(True)
        self.show_scorer.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space means "next pair" here
        self.browse_button = QPushButton("Decided pairs…")
        self.browse_button.setToolTip("Every decided pair: filter by decision, who, hand-made or proposed, image; "
                                      "show any of them here")
        self.browse_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.browser = None
        self.sample_button = QPushButton("Sample a dataset…")
        self.sample_button.setToolTip("Nothing is sampled yet: a sample job (with the scorer) gives every person of "
                                      "a dataset candidates, and then pairs to judge")
        self.sample_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.sample_button.hide()
        self.counters = QLabel()
        self.counters.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 2)
        top.addWidget(QLabel("Queue"))
        top.addWidget(self.mode_combo)
        top.addWidget(self.scope_combo)
        for w in (self.pick_label, self.pick_a, self.pick_label_b, self.pick_b):
            top.addWidget(w)
        top.addWidget(self.show_scorer)
        top.addWidget(self.browse_button)
        top.addWidget(self.sample_button)
        top.addStretch(1)
        top.addWidget(self.counters)

        self.compare = ABCompare(self)
        self.opinion = QLabel()
        self.opinion.setWordWrap(True)
        self.opinion.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        row, self.buttons = action_row((
            ("a", "A better  [A / ←]", "A is the better fit", lambda: self.decide("a")),
            ("b", "B better  [B / →]", "B is the better fit", lambda: self.decide("b")),
            ("both_bad", "Both bad  [X]", "Neither fits: keep the pair out of training",
             lambda: self.decide("both_bad")),
            ("skip", "Skip  [S]", "No opinion: mark the pair skipped", lambda: self.decide("skip")),
            ("prev", "◀ Prev  [P]", "Previous pair", lambda: self.move(-1)),
            ("next", "Next ▶  [N / Space]", "Next pair, without deciding", lambda: self.move(1)),
            ("undo", "Undo  [Ctrl+Z]", "Undo the last decision (also after a restart)", self.undo),
            ("redo", "Redo  [Ctrl+Shift+Z]", "Redo the decision undone last", self.redo),
        ), stretch_after="skip", margins=(4, 2, 4, 2))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.compare, 1)
        layout.addWidget(self.opinion)
        layout.addLayout(row)

        self.mode_combo.activated.connect(lambda _i: self._settings_changed())
        self.scope_combo.activated.connect(lambda _i: self._settings_changed())
        self.show_scorer.toggled.connect(lambda _on: self._show_current())
        self.browse_button.clicked.connect(self.open_browser)
        self.sample_button.clicked.connect(self.open_sample_job)
        for combo in (self.pick_a, self.pick_b):
            combo.activated.connect(lambda _i: self._picked())

    def sizeHint(self) -> QSize:
        # Not the contents' wishes: the photo and 3D views keep most of the window.
        return QSize(900, DOCK_HEIGHT_HINT)

    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    @property
    def scope(self) -> str:
        return self.scope_combo.currentData()

    # --- texts -----------------------------------------------------------------------

    def _side_info(self, cset, i: int, ranks: np.ndarray) -> str:
        parts = []
        if self.show_scorer.isChecked() and np.isfinite(cset.scores[i]):
            parts.append(f"score {cset.scores[i]:.3f} · rank {ranks[i]}/{len(cset)}")
        if cset.has_errors() and np.isfinite(cset.errors["mpjpe"][i]):
            parts.append(f"MPJPE {cset.errors['mpjpe'][i]:.0f} mm · PVE {cset.errors['pve'][i]:.0f} mm")
        return "   ".join(parts) or f"candidate {int(cset.ids[i])}"

    def _opinion_text(self, item: PairItem, score_a: float, score_b: float) -> str:
        parts = []
        if not self.show_scorer.isChecked():
            parts.append("Scorer's opinion hidden.")
        elif np.isfinite(score_a) and np.isfinite(score_b):
            if score_a == score_b:
                parts.append(f"The scorer cannot tell them apart ({score_a:.3f} each).")
            else:
                side = "A" if score_a > score_b else "B"
                parts.append(f"Scorer prefers <b>{side}</b>: {score_a:.3f} vs {score_b:.3f} "
                             f"(log-odds margin {abs(float(log_odds(score_a) - log_odds(score_b))):.2f}).")
        else:
            parts.append("No scores for these candidates.")
        choice = item.user_choice()
        if item.pair is not None:
            source = "scorer's pair" if item.pair.source == "auto" else "your pair"
            parts.append(f"Pair #{item.pair.id} ({source}): <b>{item.pair.status}</b>"
                         + (f" — you said {CHOICE_TEXT[choice]}." if choice else "."))
        return " ".join(parts)

    def _fill_pickers(self) -> None:
        """The free pick's choosers: the person's candidates in rank order."""
        cset = self.state.candidates
        self._busy = True
        try:
            for combo in (self.pick_a, self.pick_b):
                combo.clear()
                if cset is None:
                    continue
                ranks = cset.ranks()
                for i in cset.ranking():
                    score = f"  {cset.scores[i]:.3f}" if np.isfinite(cset.scores[i]) else ""
                    combo.addItem(f"rank {ranks[i]}{score}", int(i))
            selected = list(self.state.selected[:2]) if cset is not None else []
            defaults = selected if len(selected) == 2 else [int(i) for i in (cset.ranking()[:2] if cset else [])]
            for combo, i in zip((self.pick_a, self.pick_b), defaults):
                combo.setCurrentIndex(combo.findData(i))
        finally:
            self._busy = False

    # --- keys ------------------------------------------------------------------------

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and handles_key(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        if is_redo_key(event):
            self.redo()
        elif is_undo_key(event):
            self.undo()
        elif not handles_key(event):
            super().keyPressEvent(event)
            return
        elif event.key() in CHOICE_KEYS:
            self.decide(CHOICE_KEYS[event.key()])
        else:
            self.move(MOVE_KEYS[event.key()])
        event.accept()

    def mousePressEvent(self, event) -> None:
        self.setFocus()
        super().mousePressEvent(event)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._on_screen_changed(self.visibility.on_screen)

    def _on_screen_changed(self, on_screen: bool) -> None:
        if not on_screen:
            self.state.set_pair_colors({})  # the main views go back to score colours
            return
        make_room(self)
        if self._stale:
            if self.mode == "free":
                self._fill_pickers()
            self.rebuild()
        QTimer.singleShot(0, self._take_focus)

    def open_sample_job(self):
        """The New Job dialog on a sample job (what the whole project's queue needs first)."""
        from app.dialogs.job_dialog import open_job_dialog

        return open_job_dialog(self.window(), "sample")

    def _take_focus(self) -> None:
        if self.visibility.on_screen and self.window().isActiveWindow():
            self.setFocus()


class PlotterCloser(QObject):
    """Frees the panel's 3D render window when the main window closes."""

    def __init__(self, compare: ABCompare, parent) -> None:
        super().__init__(parent)
        self.compare = compare

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Close and obj is self.parent():
            self.compare.close_plotter()
        return False
