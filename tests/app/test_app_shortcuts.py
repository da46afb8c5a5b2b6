"""Keys: Settings has a shortcut that works on Linux; F1 lists what the menus and panels
really bind; "A" means one thing."""

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence


def test_ctrl_comma_opens_the_settings(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    w.image_pane.view.setFocus()
    qtbot.keyClick(w.image_pane.view, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(w, "settings_dialog", None) is not None and w.settings_dialog.isVisible())
    w.settings_dialog.reject()


def test_f1_lists_the_keys_of_menus_panels_and_docks(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    qtbot.keyClick(w.image_pane.view, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: getattr(w, "shortcuts_dialog", None) is not None and w.shortcuts_dialog.isVisible())
    from PyQt6.QtWidgets import QTextBrowser

    text = w.shortcuts_dialog.findChild(QTextBrowser).toPlainText()
    for expected in ("Settings", "Ctrl+,", "Sample Candidates", "Ctrl+R", "Pairs panel (while it has the focus)",
                     "A is the better fit", "A / ←", "Cleaning panel", "Keep the selected samples",
                     "Ctrl+Shift+P", "Ctrl+Shift+J", "Save Project As", "Toggle Candidate: Rank 3"):
        assert expected in text, expected
    # A key the window binds twice would make Qt fire neither.
    keys = [s.toString() for a in w.actions.values() for s in a.shortcuts() if not s.isEmpty()]
    assert len(keys) == len(set(keys))
    # "A" belongs to the Pairs panel alone; showing every candidate is V.
    assert "A" not in keys and w.actions["show_all"].shortcut() == QKeySequence("V")
