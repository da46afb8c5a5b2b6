"""Work is never lost by a click: *Save As*, and the questions asked before a scratch
project (a photo looked at on its own, kept in a temporary folder) would be deleted, or
before a photo would replace the open project (a mixin of ``MainWindow``).

A scratch project is worth keeping once it holds more than the photo and its detected
person (re-made in seconds): candidates sampled, pairs decided. Then closing it, quitting,
opening another project or photo asks: *Save As…*, *Discard* or *Cancel*.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QFileDialog, QMessageBox

from app.window_actions import PROJECT_FILTER, PROJECT_SUFFIX
from engine import store
from engine.errors import AdhmrError


class KeepWork:
    """Mixed into MainWindow (which provides state, settings, scratch_dir, open_project,
    import_paths, discard_scratch and show_error)."""

    def ask(self, title: str, text: str, choices: list[tuple[str, str]], default: str | None = None) -> str | None:
        """A modal question; ``choices`` are (key, button text); Cancel (or Esc) gives None."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        buttons = {}
        for key, label in choices:
            buttons[box.addButton(label, QMessageBox.ButtonRole.AcceptRole)] = key
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setEscapeButton(cancel)
        if default is not None:
            box.setDefaultButton(next(b for b, k in buttons.items() if k == default))
        box.exec()
        return buttons.get(box.clickedButton())

    # --- save as ---------------------------------------------------------------------

    def save_as_dialog(self) -> bool:
        """Ask where, then save the open project there and go on in the copy."""
        if self.state.project is None:
            return False
        suggested = str(Path.home() / f"photo{PROJECT_SUFFIX}") if self.scratch_dir is not None else \
            str(self.state.project.path.with_name(f"{self.state.project.path.stem} copy{PROJECT_SUFFIX}"))
        path, _ = QFileDialog.getSaveFileName(self, "Save project as", suggested, PROJECT_FILTER)
        return bool(path) and self.save_as(path)

    def save_as(self, path: str | Path) -> bool:
        """Copy the open project to ``path`` (``.adhmr`` added if missing) and open the copy;
        a scratch project's temporary folder goes once the copy is safe."""
        from engine.projects.save_as import save_project_as

        if self.state.project is None:
            return False
        if self.tasks.busy:
            self.show_error("Wait for the running task to finish (or cancel it) first.")
            return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(PROJECT_SUFFIX)
        image = self.state.image.id if self.state.image is not None else None
        try:
            saved = save_project_as(self.state.project, path)
        except AdhmrError as exc:
            self.show_error(exc)
            return False
        self.discard_scratch()
        if not self.open_project(saved, restore_image=False):
            return False
        if image is not None and self.state.image_record(image) is not None:
            self.state.open_image(image)  # the copy keeps the ids: stay on the same photo
        self.show_message(f"Saved as {saved}")
        return True

    # --- scratch projects ------------------------------------------------------------

    def scratch_has_work(self) -> bool:
        """Whether the scratch project holds work the user made (a photo sampled or paired)."""
        if self.scratch_dir is None or self.state.project is None:
            return False
        return any(r.status != "unsampled" for r in store.list_images(self.state.project))

    def keep_scratch(self, leaving: str) -> bool:
        """Before a scratch project with work is deleted (``leaving``: what the user is doing,
        e.g. "quit"): Save As… (True once saved), Discard (True) or Cancel (False)."""
        if not self.scratch_has_work():
            return True
        name = self.state.image_path.name if self.state.image_path is not None else "this photo"
        choice = self.ask("Keep this photo's work?",
                          f"The candidates and decisions for {name} live in a temporary project that is deleted "
                          f"when you {leaving}. Save it as a project file first?",
                          [("save", "Save As…"), ("discard", "Discard")], default="save")
        if choice == "save":
            return self.save_as_dialog()
        return choice == "discard"

    def photo_destination(self, path: str | Path) -> str | None:
        """With a project open, where a photo to look at goes: 'add' (into the open project),
        'alone' (a scratch project of its own, closing the open one) or None (cancel)."""
        if self.state.project is None:
            return "alone"
        if self.scratch_dir is not None:
            return "alone" if self.keep_scratch("look at another photo") else None
        return self.ask("Look at a photo",
                        f"Add {Path(path).name} to {self.state.project.path.name}, or look at it on its own "
                        f"(this closes {self.state.project.path.name}; nothing in it is lost)?",
                        [("add", f"Add to {self.state.project.path.name}"), ("alone", "On its own")],
                        default="add")
