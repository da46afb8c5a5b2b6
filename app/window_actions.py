"""What the main window's menus, buttons and drops do (a mixin of ``MainWindow``).

Project files: create, open (recent list kept), close, the demo project, a single photo
in a scratch project. Imports go through ``engine.projects.importing.import_dataset`` and
sampling through ``app.sampling``, each in a background task.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from PyQt6.QtWidgets import QDialog, QFileDialog, QMessageBox, QTextBrowser, QVBoxLayout

from app.dialogs.settings_dialog import SettingsDialog
from app.sampling import detect_person, sample_person
from app.settings import Preferences
from engine import store
from engine.data import formats
from engine.data.image_folder import IMAGE_SUFFIXES
from engine.errors import AdhmrError
from engine.store.project import check_project_file

log = logging.getLogger(__name__)

PROJECT_SUFFIX = ".adhmr"
PROJECT_FILTER = f"ADHMR projects (*{PROJECT_SUFFIX});;All files (*)"
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.webp *.tif *.tiff);;All files (*)"
MOUSE_HELP = ("Mouse: the wheel zooms the photo, a drag pans it, Shift+drag draws a box round a person; "
              "in the 3D views a drag turns the camera.")


def _detect_then_sample(project, image_id, image_rgb, image_path, person, prefs, models,
                        progress, should_cancel):
    if person is None:
        person_id = detect_person(project, image_id, image_rgb, None, models, progress, should_cancel)
        person = store.get_person(project, person_id)
    return sample_person(project, image_path, person, prefs, models, progress, should_cancel)


def _import_photo(project, path, models, progress, should_cancel):
    """Add one photo, then look for everyone in it; a photo nobody is found in stays, so
    the user can draw a box. Returns a status message."""
    from engine.projects.detecting import detect_dataset
    from engine.projects.importing import import_dataset

    report = import_dataset(project, [path], name="photo", detect=False, should_cancel=should_cancel)
    if not report.images:
        raise AdhmrError(f"{path}: {report.rejected[0][1] if report.rejected else 'could not be imported'}")
    image_id = store.list_images(project)[0].id
    detect_dataset(project, report.dataset, detector=models.detector(), should_cancel=should_cancel)
    found = len(store.persons_of_image(project, image_id))
    if not found:
        return "Nobody found in the photo: drag a box around the person (B)"
    people = "1 person" if found == 1 else f"{found} people (Sample All People: Ctrl+Shift+R)"
    return f"Opened {Path(path).name}: {people} detected, the average body in 3D"


def _import(project, paths, name, progress, should_cancel):
    from engine.projects.importing import import_dataset

    return import_dataset(project, paths, name=name, progress=progress, should_cancel=should_cancel)


class WindowActions:
    """Mixed into MainWindow (which provides state, tasks, settings and the widgets)."""

    # --- errors ----------------------------------------------------------------------

    def show_error(self, error: BaseException | str) -> None:
        """Tell the user (status bar + a non-blocking message box); kept in ``last_error``."""
        text = str(error) if isinstance(error, AdhmrError) or isinstance(error, str) else \
            f"{type(error).__name__}: {error}"
        self.last_error = text
        self.show_message(text)
        log.warning("%s", text)
        box = QMessageBox(QMessageBox.Icon.Warning, "ADHMR Studio", text, parent=self)
        box.open()

    # --- projects --------------------------------------------------------------------

    def open_project(self, path: str | Path, restore_image: bool = True) -> bool:
        """Open a project file; shows the last image viewed in it."""
        if self.tasks.busy:
            self.show_error("Wait for the running task to finish (or cancel it) first.")
            return False
        try:
            project = store.Project.open(path)
        except AdhmrError as exc:
            self.show_error(exc)
            if not Path(path).exists():
                self.settings.remove_recent_project(str(path))
                self._refresh_recent_menu()
            return False
        if self.scratch_dir is not None and not self.keep_scratch("open another project"):
            project.close()
            return False
        self.discard_scratch()
        self.settings.add_recent_project(project.path)
        self.state.set_project(project)
        image_id = self.settings.last_image(project.path) if restore_image else None
        if image_id is None or self.state.image_record(image_id) is None:
            image_id = self.state.images[0].id if self.state.images else None
        self.state.open_image(image_id)
        self.show_message(f"Opened {project.path} ({len(self.state.images)} images)")
        return True

    def new_project(self, path: str | Path) -> bool:
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(PROJECT_SUFFIX)
        try:
            store.Project.create(path).close()
        except AdhmrError as exc:
            self.show_error(exc)
            return False
        return self.open_project(path)

    def new_project_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New project", f"untitled{PROJECT_SUFFIX}", PROJECT_FILTER)
        if path:
            self.new_project(path)

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def close_project(self) -> None:
        if self.tasks.busy:
            self.show_error("Wait for the running task to finish (or cancel it) first.")
            return
        if not self.keep_scratch("close it"):
            return
        self.state.set_project(None)
        self.discard_scratch()
        self.settings.clear_last_project()

    def restore_session(self) -> bool:
        """Reopen the project (and image) open when the app last closed."""
        last = self.settings.last_project()
        if last and Path(last).is_file():
            return self.open_project(last)
        return False

    def open_demo(self) -> bool:
        """Open the demo project, building it in the background the first time."""
        from app.demo import demo_project

        task = self.tasks.start("Preparing the demo project", demo_project,
                                on_done=self.open_project, on_error=self.show_error)
        return task is not None

    # --- a single photo --------------------------------------------------------------

    def open_photo_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Look at a photo", "", IMAGE_FILTER)
        if path:
            self.open_photo(path)

    def open_photo(self, path: str | Path) -> bool:
        """Open one photo in a scratch project (a temporary folder removed on close), or,
        as the user chooses when a project is open, add it to that project."""
        if self.tasks.busy:
            self.show_error("Wait for the running task to finish (or cancel it) first.")
            return False
        destination = self.photo_destination(path)
        if destination is None:
            return False
        if destination == "add":
            return self.import_paths([str(path)], open_new=True)
        folder = Path(tempfile.mkdtemp(prefix="adhmr-scratch-"))
        try:
            project = store.Project.create(folder / f"scratch{PROJECT_SUFFIX}")
        except AdhmrError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            self.show_error(exc)
            return False
        self.state.set_project(None)
        self.discard_scratch()
        self.scratch_dir = folder
        self.state.set_project(project)

        def done(message: str) -> None:
            self.state.refresh_images()
            if self.state.images:
                self.state.open_image(self.state.images[0].id)
            self.show_message(message)

        task = self.tasks.start(f"Opening {Path(path).name}", _import_photo, project, str(path), self.state.models,
                                on_done=done, on_error=self.show_error)
        return task is not None

    def discard_scratch(self) -> None:
        if self.scratch_dir is not None:
            if self.state.project is not None and self.state.project.path.parent == self.scratch_dir:
                self.state.set_project(None)
            shutil.rmtree(self.scratch_dir, ignore_errors=True)
            self.scratch_dir = None

    # --- imports ---------------------------------------------------------------------

    def import_paths(self, paths: list[str], name: str | None = None, open_new: bool = False) -> bool:
        """Import photos, folders or annotation files into the open project (in the
        background); open_new: show the newest image once imported."""
        project = self.state.project
        if project is None:
            self.show_error("Open or create a project first (or drop a single photo to look at it).")
            return False
        if name is None:
            first = Path(paths[0])
            name = "photos" if first.is_file() and first.suffix.lower() in IMAGE_SUFFIXES else (first.stem or first.name)

        def done(report) -> None:
            self.state.refresh_images()
            if open_new and report.images:
                self.state.open_image(max(r.id for r in self.state.images))
            elif self.state.image is None and self.state.images:
                self.state.open_image(self.state.images[0].id)
            msg = f"Imported {report.images} images ({report.persons} persons) into '{report.dataset}'"
            if report.already:
                msg += f", {report.already} already there"
            if report.rejected:
                msg += f"; skipped {len(report.rejected)}: {report.rejected[0][0]}: {report.rejected[0][1]}"
            self.show_message(msg)
            if not report.images and not report.already and report.rejected:
                self.show_error(msg)

        task = self.tasks.start(f"Importing into '{name}'", _import, project, [str(p) for p in paths], name,
                                on_done=done, on_error=self.show_error)
        return task is not None

    def import_images_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import images", "", IMAGE_FILTER)
        if paths:
            self.import_paths(paths)

    def import_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Import a folder of photos")
        if path:
            self.import_paths([path])

    def import_dataset_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a dataset file", "", formats.file_filter())
        if path:
            self.import_paths([path])

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.handle_dropped(paths)

    def handle_dropped(self, paths: list[str]) -> None:
        """A project file opens; with no project, one photo opens as a scratch project;
        anything else is imported into the open project."""
        if len(paths) == 1 and Path(paths[0]).is_file():
            try:
                check_project_file(Path(paths[0]))
                self.open_project(paths[0])
                return
            except AdhmrError:
                pass
            if self.state.project is None and Path(paths[0]).suffix.lower() in IMAGE_SUFFIXES:
                self.open_photo(paths[0])
                return
        self.import_paths(paths)

    # --- images, persons, sampling ---------------------------------------------------

    def step_image(self, delta: int) -> None:
        self.state.step_image(delta, self.browser.visible_order())

    def sample_current(self) -> bool:
        """Sample candidates for the current person (detecting one first if needed)."""
        s = self.state
        if s.project is None or s.image is None:
            self.show_error("Open an image first.")
            return False
        if s.image_rgb is None:
            self.show_error(f"{s.image_path}: cannot read this image")
            return False
        image_id = s.image.id

        def done(outcome) -> None:
            s.refresh_images()
            if s.image is None or s.image.id != image_id:
                return
            s.reload_persons(outcome.person_id)
            cset = s.candidates
            if cset is not None:
                fresh = [i for i in range(len(cset)) if cset.run_ids[i] == outcome.run_id]
                c = outcome.candidates
                for j, i in enumerate(fresh):
                    cset.seed_meshes_at(i, c.vertices[0, j].numpy(), c.keypoints3d[0, j].numpy())
            best = "" if not outcome.scored else f", best score {float(outcome.candidates.scores.max()):.3f}"
            self.show_message(f"Sampled {outcome.candidates.num_hypotheses} candidates "
                              f"(model {outcome.base}, scorer {outcome.scorer}){best}")

        task = self.tasks.start("Sampling", _detect_then_sample, s.project, image_id, s.image_rgb, s.image_path,
                                s.person, s.prefs, s.models, on_done=done, on_error=self.show_error)
        return task is not None

    def detect_in_box(self, box) -> bool:
        """Detect a person (inside ``box`` (x0, y0, x1, y1) px, or the whole photo) and select them."""
        s = self.state
        if s.project is None or s.image is None or s.image_rgb is None:
            return False
        if isinstance(box, bool):
            box = None
        image_id = s.image.id

        def done(person_id: int) -> None:
            s.refresh_images()
            if s.image is not None and s.image.id == image_id:
                s.reload_persons(person_id)
                self.show_message(f"Found a person; {len(s.persons)} in this photo")

        task = self.tasks.start("Detecting", detect_person, s.project, image_id, s.image_rgb,
                                None if box is None else tuple(box), s.models,
                                on_done=done, on_error=self.show_error)
        return task is not None

    # --- settings and help -----------------------------------------------------------

    def checkpoint_choices(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        if self.state.project is None:
            return [], []
        records = store.list_checkpoints(self.state.project)
        label = lambda r: (f"#{r.id} {r.kind}: {Path(r.path).name}", f"project:{r.id}")  # noqa: E731
        return ([label(r) for r in records if r.kind in ("base", "dpo")],
                [label(r) for r in records if r.kind == "scorer"])

    def open_settings(self) -> SettingsDialog:
        """Open the settings dialog (non-blocking); accepted values are applied and saved."""
        base, scorer = self.checkpoint_choices()
        dialog = SettingsDialog(self.state.prefs, base, scorer, parent=self)
        dialog.accepted.connect(lambda: self.apply_preferences(dialog.preferences()))
        dialog.open()
        self.settings_dialog = dialog
        return dialog

    def apply_preferences(self, prefs: Preferences) -> None:
        self.settings.set_preferences(prefs)
        self.state.set_preferences(prefs)
        self.show_message("Settings saved")

    def show_shortcuts(self) -> QDialog:
        """The keyboard shortcuts, read from the menus and panels (``app.shortcut_list``)."""
        from app.shortcut_list import shortcut_html, shortcut_sections

        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        text = QTextBrowser(dialog)
        text.setHtml(shortcut_html(shortcut_sections(self)) + f"<p>{MOUSE_HELP}</p>")
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        dialog.resize(560, 680)
        dialog.open()
        self.shortcuts_dialog = dialog
        return dialog
