"""Manual decisions (pairs, cleaning overrides) made through the store, with grouped undo.

The store keeps one linear, persistent undo history (``engine.store.actions``): each
decision is committed when made and survives a restart. Some gestures take more than one
store action (flipping a scorer's pair rejects it and adds the reversed pair by hand);
this object remembers which actions one gesture made in this session, so one Ctrl+Z
undoes the whole gesture. It only groups actions that are still the newest in the
store's history; anything else is undone one action at a time, as the store does.

One object per window (``DecisionHistory.of(window)``), shared by the curation and
cleaning panels; ``changed`` tells both (and anything else) to re-read the store.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QKeySequence

from engine import store

log = logging.getLogger(__name__)

HISTORY_WINDOW = 64
"""Store actions read back to match a gesture's group (gestures are a few actions long)."""


def current_user() -> str | None:
    """Who decisions are recorded as (the login name), or None when unknown."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001  (getuser raises whatever the platform lookup raises)
        return None


def is_undo_key(event) -> bool:
    """Ctrl+Z (the platform's Undo)."""
    return event.matches(QKeySequence.StandardKey.Undo)


def is_redo_key(event) -> bool:
    """Ctrl+Shift+Z or Ctrl+Y (whichever the platform's Redo is, both work)."""
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    ctrl = Qt.KeyboardModifier.ControlModifier
    return (event.matches(QKeySequence.StandardKey.Redo)
            or (event.key() == Qt.Key.Key_Z and mods == ctrl | Qt.KeyboardModifier.ShiftModifier)
            or (event.key() == Qt.Key.Key_Y and mods == ctrl))


class DecisionHistory(QObject):
    """Runs decision gestures on the state's project and undoes/redoes them as units.

    changed(kind, actions): kind is 'do', 'undo' or 'redo'; actions the ActionRecords
    applied (newest first for undo, oldest first for do/redo).
    """

    changed = pyqtSignal(str, object)

    def __init__(self, state, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.who = current_user()
        self._undo: list[tuple[int, ...]] = []
        self._redo: list[tuple[int, ...]] = []
        state.projectChanged.connect(self._forget)

    @classmethod
    def of(cls, window) -> DecisionHistory:
        """The window's history (made on first use, a child of the window)."""
        found = window.findChild(cls, "decision-history")
        if found is None:
            found = cls(window.state, window)
            found.setObjectName("decision-history")
        return found

    def _forget(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def _live(self) -> list[store.ActionRecord]:
        """Actions not undone, newest first."""
        return [a for a in store.history(self.state.project, HISTORY_WINDOW) if not a.undone]

    def do(self, *steps: Callable[[store.Project, str | None], Any]) -> list[Any]:
        """Run ``steps`` (each ``step(project, who)`` making store actions) as one gesture.

        Returns each step's result. A step that raises leaves the earlier ones committed
        (each is its own transaction) and grouped, so one undo reverts them.
        """
        project = self.state.project
        if project is None:
            return []
        # A new action drops the undone tail and may reuse its ids: new ones are those
        # above the newest live action.
        floor = max((a.id for a in self._live()), default=0)
        results: list[Any] = []
        try:
            for step in steps:
                results.append(step(project, self.who))
        finally:
            made = [a for a in store.history(project, HISTORY_WINDOW) if a.id > floor and not a.undone]
            if made:
                self._undo.append(tuple(sorted(a.id for a in made)))
                self._redo.clear()
                self.changed.emit("do", sorted(made, key=lambda a: a.id))
        return results

    def can_undo(self) -> bool:
        return self.state.project is not None and bool(self._live())

    def can_redo(self) -> bool:
        project = self.state.project
        return project is not None and any(a.undone for a in store.history(project, HISTORY_WINDOW))

    def undo(self) -> list[store.ActionRecord]:
        """Undo the newest gesture (all its actions) or, if the history moved on, one action."""
        project = self.state.project
        if project is None:
            return []
        live = self._live()
        count = 1
        if self._undo:
            group = self._undo[-1]
            if {a.id for a in live[: len(group)]} == set(group):
                count = len(group)
                self._redo.append(self._undo.pop())
            else:
                self._undo.clear()
        done = []
        for _ in range(count):
            action = store.undo(project)
            if action is None:
                break
            done.append(action)
        if done:
            self.changed.emit("undo", done)
        return done

    def redo(self) -> list[store.ActionRecord]:
        """Redo the gesture undone last (all its actions) or one action."""
        project = self.state.project
        if project is None:
            return []
        undone = sorted((a for a in store.history(project, HISTORY_WINDOW) if a.undone), key=lambda a: a.id)
        count = 1
        if self._redo:
            group = self._redo[-1]
            if {a.id for a in undone[: len(group)]} == set(group):
                count = len(group)
                self._undo.append(self._redo.pop())
            else:
                self._redo.clear()
        done = []
        for _ in range(count):
            action = store.redo(project)
            if action is None:
                break
            done.append(action)
        if done:
            self.changed.emit("redo", done)
        return done
