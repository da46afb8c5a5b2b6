"""Room for a bottom dock panel that needs height (the Pairs and Cleaning panels show
photos): grown to a share of the window's height when it comes on screen."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QWidget

ROOM_SHARE = 0.45
"""Share of the window's height a photo-showing bottom dock grows to when it comes on
screen: its photos need height to be judged in."""


def make_room(panel: QWidget, share: float = ROOM_SHARE) -> None:
    """Grow the docked bottom panel ``panel`` to ``share`` of the window's height when it is
    shorter (a floating or side dock, or a taller one, is left as it is)."""
    dock, window = panel.parentWidget(), panel.window()
    if not isinstance(dock, QDockWidget) or dock.isFloating() or not isinstance(window, QMainWindow):
        return
    if window.dockWidgetArea(dock) != Qt.DockWidgetArea.BottomDockWidgetArea:
        return
    want = int(window.height() * share)
    if dock.height() < want:
        window.resizeDocks([dock], [want], Qt.Orientation.Vertical)
