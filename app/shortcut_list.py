"""The F1 list of keyboard shortcuts, read from the window itself so it cannot drift from
what the keys do: every menu action with a shortcut (by menu), the dock panels' toggles,
and each panel's own keys, taken from its buttons (``app.widgets.action_buttons``: the
keys in brackets at the end of a button's text, what it does in its tooltip).

The panels' keys work while the panel has the keyboard focus (click into it); there
they come before the window's own single-key shortcuts.
"""

from __future__ import annotations

import html
import re

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMainWindow, QMenu

BUTTON_KEYS = re.compile(r"\[(?P<keys>[^\]]+)\]\s*$")
"""The keys of a panel button, written at the end of its text: 'A better  [A / ←]'."""


def _keys(action: QAction) -> str:
    return " / ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
                      if not s.isEmpty())


def _text(action: QAction) -> str:
    return action.text().replace("&", "").rstrip("…").strip()


def _menu_rows(menu: QMenu, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for action in menu.actions():
        if action.menu() is not None:
            rows += _menu_rows(action.menu(), f"{prefix}{_text(action)}: ")
        elif _keys(action):
            rows.append((_keys(action), prefix + _text(action)))
    return rows


def shortcut_sections(window: QMainWindow) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section title, [(keys, what they do)]) for the window's menus, its panels' toggles
    and every panel's own keys (``window.extra``: name -> panel widget; the dock's title
    names the section)."""
    sections = []
    for action in window.menuBar().actions():
        if action.menu() is not None:
            rows = _menu_rows(action.menu())
            if rows:
                sections.append((_text(action) + " menu", rows))
    for name, panel in getattr(window, "extra", {}).items():
        title = window.docks[name].windowTitle() if name in window.docks else name
        rows = []
        for button in getattr(panel, "buttons", {}).values():
            match = BUTTON_KEYS.search(button.text())
            if match:
                rows.append((match["keys"].strip(), button.toolTip() or BUTTON_KEYS.sub("", button.text()).strip()))
        if rows:
            sections.append((f"{title} panel (while it has the focus)", rows))
    return sections


def shortcut_html(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """The sections as one HTML table."""
    out = ["<table>"]
    for title, rows in sections:
        out.append(f"<tr><td colspan='2'><br><b>{html.escape(title)}</b></td></tr>")
        out += [f"<tr><td><b>{html.escape(k)}</b></td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>" for k, v in rows]
    out.append("</table>")
    return "".join(out)
