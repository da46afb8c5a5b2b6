"""The keyboard-first panels' shared parts: a row of labelled action buttons, and the test
for a plain (unmodified) key press."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QPushButton

ButtonSpec = tuple[str, str, str, Callable[[], object]]
"""(name, text with its key in brackets, tooltip, slot)."""


def action_row(specs: Sequence[ButtonSpec], stretch_after: str | None = None,
               margins: tuple[int, int, int, int] = (0, 0, 0, 0)) -> tuple[QHBoxLayout, dict[str, QPushButton]]:
    """A row of buttons that never take the keyboard focus (the panel keeps it, so its
    single-key shortcuts keep working after a click); a stretch follows ``stretch_after``.

    Returns the layout and the buttons by name.
    """
    row = QHBoxLayout()
    row.setContentsMargins(*margins)
    buttons: dict[str, QPushButton] = {}
    for name, text, tip, slot in specs:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        row.addWidget(button)
        buttons[name] = button
        if name == stretch_after:
            row.addStretch(1)
    return row, buttons


def is_plain_key(event) -> bool:
    """A key pressed without Ctrl, Alt or Meta (Shift and the keypad allowed)."""
    allowed = Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier
    return not (event.modifiers() & ~allowed)
