"""Whether a panel is on screen: its dock shown and, in a tabbed dock area, its tab current.

``QWidget.isVisible`` stays True for a panel behind another tab, and no show event comes
when its tab is raised; ``QDockWidget.visibilityChanged`` tells both. Panels use this to
do work (build a queue, poll jobs) only while the user can see them.
"""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, pyqtSignal
from PyQt6.QtWidgets import QDockWidget, QWidget


class DockVisibility(QObject):
    """Follows the dock ``widget`` is put in; ``changed(on_screen)`` when its tab or the
    dock shows or hides. Outside a dock, ``on_screen`` is plain visibility."""

    changed = pyqtSignal(bool)

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.widget = widget
        self._dock: QDockWidget | None = None
        self._dock_visible: bool | None = None
        widget.installEventFilter(self)

    @property
    def on_screen(self) -> bool:
        if self._dock_visible is None:
            return self.widget.isVisible()
        return self._dock_visible and self.widget.isVisible()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.widget and event.type() == QEvent.Type.ParentChange:
            self._attach()
        return False

    def _attach(self) -> None:
        parent = self.widget.parentWidget()
        if parent is self._dock:
            return
        if self._dock is not None:
            self._dock.visibilityChanged.disconnect(self._changed)
        self._dock = parent if isinstance(parent, QDockWidget) else None
        self._dock_visible = None
        if self._dock is not None:
            self._dock.visibilityChanged.connect(self._changed)

    def _changed(self, visible: bool) -> None:
        self._dock_visible = bool(visible)
        self.changed.emit(self.on_screen)
