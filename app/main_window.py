"""The main window: start page or workspace, menus and shortcuts, docks, status bar.

Workspace: the image browser (left dock), the 2D image view and the 3D view side by
side (a splitter), the candidate table (bottom dock) and any panel registered in
``app.panels`` (tabbed beside it). Project, import, sampling and person-picking actions
live in ``app.window_actions``; this module builds and lays out the window and saves its
layout (geometry, docks, splitter, last project and image) on close.
"""

from __future__ import annotations

import logging

import numpy as np
from pathlib import Path

from PyQt6.QtCore import QByteArray, Qt, QTimer, QThreadPool
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QSplitter, QStackedWidget, QWidget

from app.exporting import export_dialog
from app.fitting_actions import fit_current, refine_selected
from app.keep_work import KeepWork
from app.people import other_people_best, sample_all
from app.panels import PanelSpec, extra_panels
from app.panels.candidate_table import CandidateTable
from app.panels.image_browser import ImageBrowser
from app.settings import AppSettings
from app.state import AppState
from app.tasks import TaskRunner
from app.views.image_pane import ImagePane
from app.views.mesh_view_3d import MeshView3D, default_focal
from app.widgets.start_page import StartPage
from app.widgets.task_status import TaskStatus
from app.window_actions import WindowActions

log = logging.getLogger(__name__)

APP_TITLE = "ADHMR Studio"
LAYOUT_VERSION = 1


class MainWindow(KeepWork, WindowActions, QMainWindow):
    """ADHMR Studio's window. ``settings``: where preferences and layout persist."""

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.state = AppState(self.settings.preferences(), parent=self)
        self.tasks = TaskRunner(self)
        self.last_error: str | None = None
        self.scratch_dir: Path | None = None
        self.setObjectName("MainWindow")
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.start_page = StartPage()
        self.image_pane = ImagePane(self.state)
        self.view3d = MeshView3D()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("views")
        self.splitter.addWidget(self.image_pane)
        self.splitter.addWidget(self.view3d)
        self.splitter.setSizes([600, 500])
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.splitter)
        self.setCentralWidget(self.stack)

        self.browser = ImageBrowser(self.state)
        self.candidate_table = CandidateTable(self.state)
        self.docks: dict[str, QDockWidget] = {}
        self._dock("images", "Images", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("candidates", "Candidates", self.candidate_table, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.extra: dict[str, QWidget] = {}
        for spec in extra_panels():
            self._add_extra_panel(spec)

        self.status_message = QLabel()
        self.task_status = TaskStatus(self.tasks)
        self.statusBar().addWidget(self.status_message, 1)
        self.statusBar().addPermanentWidget(self.task_status)

        self.actions: dict[str, QAction] = {}
        self._build_menus()
        self._update_3d_timer = QTimer(self)
        self._update_3d_timer.setSingleShot(True)
        self._update_3d_timer.setInterval(0)
        self._update_3d_timer.timeout.connect(self.flush_views)
        self._view_key: tuple[int | None, int | None] = (None, None)

        self.start_page.newRequested.connect(self.new_project_dialog)
        self.start_page.openRequested.connect(self.open_project_dialog)
        self.start_page.demoRequested.connect(self.open_demo)
        self.start_page.photoRequested.connect(self.open_photo_dialog)
        self.start_page.recentChosen.connect(self.open_project)
        self.image_pane.boxDrawn.connect(lambda x0, y0, x1, y1: self.detect_in_box((x0, y0, x1, y1)))
        for signal in (self.state.candidatesChanged, self.state.selectionChanged,
                       self.state.visibilityChanged, self.state.personChanged, self.state.colorsChanged):
            signal.connect(self._update_3d_timer.start)
        self.view3d.error_check.toggled.connect(self._update_3d_timer.start)
        self.state.imageChanged.connect(self._image_changed)
        self.state.projectChanged.connect(self._project_changed)
        self.state.message.connect(self.show_message)
        self.tasks.started.connect(lambda _t: self._update_enabled())
        self.tasks.finished.connect(lambda _t: self._update_enabled())
        self._project_changed()
        self.resize(1400, 900)
        self._restore_layout()

    # --- building --------------------------------------------------------------------

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _add_extra_panel(self, spec: PanelSpec) -> None:
        widget = spec.factory(self.state, self)
        self.extra[spec.name] = widget
        area = {"left": Qt.DockWidgetArea.LeftDockWidgetArea, "right": Qt.DockWidgetArea.RightDockWidgetArea,
                "bottom": Qt.DockWidgetArea.BottomDockWidgetArea}[spec.area]
        dock = self._dock(spec.name, spec.title, widget, area)
        if spec.area == "bottom":
            self.tabifyDockWidget(self.docks["candidates"], dock)
        if spec.shortcut:
            dock.toggleViewAction().setShortcut(QKeySequence(spec.shortcut))

    def _action(self, name: str, text: str, slot, shortcut=None, checkable: bool = False,
                tip: str | None = None) -> QAction:
        if name in self.actions:  # a second one would silently take the first one's place in the dict
            raise ValueError(f"two window actions named {name!r}")
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.actions[name] = action
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        S = QKeySequence.StandardKey
        bar = self.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self._action("new", "&New Project…", self.new_project_dialog, S.New))
        file.addAction(self._action("open", "&Open Project…", self.open_project_dialog, S.Open))
        self.recent_menu = QMenu("Open &Recent", self)
        file.addMenu(self.recent_menu)
        file.addAction(self._action("demo", "Open &Demo Project", self.open_demo))
        file.addAction(self._action("photo", "Look at a &Photo…", self.open_photo_dialog, "Ctrl+Shift+O"))
        file.addSeparator()
        file.addAction(self._action("import_images", "&Import Images…", self.import_images_dialog, "Ctrl+I"))
        file.addAction(self._action("import_folder", "Import &Folder…", self.import_folder_dialog, "Ctrl+Shift+I"))
        file.addAction(self._action("import_dataset", "Import &Dataset File…", self.import_dataset_dialog))
        file.addSeparator()
        file.addAction(self._action("save_as", "Save Project &As…", self.save_as_dialog, S.SaveAs,
                                    tip="Save the project under another name (keeps a photo's scratch project)"))
        file.addAction(self._action("export", "&Export Selected Candidates…", lambda: export_dialog(self), "Ctrl+E",
                                    tip="Meshes (PLY, OBJ, glTF), overlay and 3D images and a turntable video"))
        file.addAction(self._action("close", "&Close Project", self.close_project, S.Close))
        file.addAction(self._action("settings", "&Settings…", self.open_settings, "Ctrl+,"))
        file.addSeparator()
        file.addAction(self._action("quit", "&Quit", self.close, S.Quit))

        image = bar.addMenu("&Image")
        image.addAction(self._action("prev", "&Previous Image", lambda: self.step_image(-1), ["PgUp", "["]))
        image.addAction(self._action("next", "&Next Image", lambda: self.step_image(1), ["PgDown", "]"]))
        image.addSeparator()
        image.addAction(self._action("sample", "&Sample Candidates", self.sample_current, "Ctrl+R",
                                     tip="Sample candidates for the current person with the diffusion model"))
        image.addAction(self._action("sample_all", "Sample &All People", lambda: sample_all(self), "Ctrl+Shift+R",
                                     tip="Sample candidates for every person of the photo, then show them all"))
        image.addAction(self._action("fit_body", "&Fit a Candidate", lambda: fit_current(self), "Ctrl+Shift+F",
                                     tip="Fit the body to the person's keypoints: a candidate beside the sampled ones"))
        image.addAction(self._action("refine", "&Refine Selected Candidates", lambda: refine_selected(self),
                                     "Ctrl+Alt+F", tip="A few fit steps from each selected candidate (stored as new ones)"))
        image.addAction(self._action("detect", "&Detect Person", lambda: self.detect_in_box(None), "Ctrl+D",
                                     tip="Run the keypoint detector on the whole photo"))
        image.addAction(self._action("pick", "Pick Person with a &Box", self.image_pane.box_button.toggle, "B",
                                     tip="Drag a box around a person in a group photo"))
        image.addSeparator()
        image.addAction(self._action("cancel", "Cancel Running Task", self.tasks.cancel, "Esc"))

        view = bar.addMenu("&View")
        view.addAction(self._action("fit", "&Fit Photo", self.image_pane.view.fit, "F"))
        view.addAction(self._action("zoom_in", "Zoom &In", lambda: self.image_pane.view.zoom_by(1.25), S.ZoomIn))
        view.addAction(self._action("zoom_out", "Zoom &Out", lambda: self.image_pane.view.zoom_by(0.8), S.ZoomOut))
        view.addAction(self._action("camera", "3D: &Image Camera", self.view3d.snap_to_image, "C"))
        wire = self._action("wire", "&Wireframe Meshes", self.image_pane.wire_check.setChecked, "W", checkable=True)
        self.image_pane.wire_check.toggled.connect(wire.setChecked)
        view.addAction(wire)
        keypoints = self._action("keypoints", "&Keypoints", self.image_pane.keypoints_check.setChecked, "K",
                                 checkable=True)
        keypoints.setChecked(self.image_pane.keypoints_check.isChecked())
        self.image_pane.keypoints_check.toggled.connect(keypoints.setChecked)
        view.addAction(keypoints)
        view.addSeparator()
        toggles = view.addMenu("&Toggle Candidate")
        for rank in range(1, 10):
            toggles.addAction(self._action(f"toggle_{rank}", f"Rank {rank}", lambda _=False, r=rank: self.state.toggle_rank(r),
                                           str(rank)))
        # V, not A: A means "A is better" in the Pairs panel.
        view.addAction(self._action("show_all", "Show &All Candidates", lambda: self.set_all_visible(True), "V"))
        view.addAction(self._action("hide_unselected", "&Hide Unselected Candidates",
                                    lambda: self.set_all_visible(False), "Shift+V"))
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("shortcuts", "&Keyboard Shortcuts", self.show_shortcuts, S.HelpContents))

    # --- state changes ---------------------------------------------------------------

    def _project_changed(self) -> None:
        project = self.state.project
        self.stack.setCurrentIndex(1 if project is not None else 0)
        for dock in self.docks.values():
            dock.setVisible(project is not None)
        if project is None:
            self.setWindowTitle(APP_TITLE)
            self.start_page.set_recent(self.settings.recent_projects())
        else:
            name = "scratch project" if self.scratch_dir is not None else project.path.name
            self.setWindowTitle(f"{name} — {APP_TITLE}")
        self._refresh_recent_menu()
        self._update_enabled()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_projects()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_project(p))
        self.recent_menu.setEnabled(bool(recent))

    def _update_enabled(self) -> None:
        has_project = self.state.project is not None
        idle = not self.tasks.busy
        for name in ("import_images", "import_folder", "import_dataset", "close", "save_as", "export"):
            self.actions[name].setEnabled(has_project and idle)
        for name in ("sample", "sample_all", "fit_body", "refine", "detect", "pick"):
            self.actions[name].setEnabled(has_project and idle and self.state.image is not None)
        for name in ("new", "open", "demo", "photo"):
            self.actions[name].setEnabled(idle)

    def _image_changed(self) -> None:
        s = self.state
        if s.project is not None and s.image is not None and self.scratch_dir is None:
            self.settings.set_last_image(s.project.path, s.image.id)
        self._update_enabled()
        self._update_3d_timer.start()
        if s.image is not None:
            n = len(s.persons)
            c = 0 if s.candidates is None else len(s.candidates)
            self.show_message(f"{s.image_path.name}: {n} person{'s' if n != 1 else ''}, {c} candidates")

    def flush_views(self) -> None:
        """Bring the 3D view up to date now (it otherwise updates on the next event loop turn)."""
        self._update_3d_timer.stop()
        s = self.state
        key = (s.image.id if s.image else None, s.person.id if s.person else None)
        new_view, self._view_key = key != self._view_key, key
        size = (0, 0)
        if s.image_rgb is not None:
            size = (s.image_rgb.shape[1], s.image_rgb.shape[0])
        elif s.image is not None:
            size = (s.image.width or 640, s.image.height or 480)
        if s.candidates is not None and len(s.candidates):
            visible = [int(i) for i in s.candidates.ranking() if int(i) in s.visible]
            errors = None  # the per-vertex error view, where the person has a 3D label
            if s.person is not None and s.person.label_params is not None and s.candidates.decoder is not None:
                errors = (s.candidates.vertex_errors([i for i in visible if i in s.selected], s.person.label_params)
                          if self.view3d.error_check.isChecked() else {})
            self.view3d.show_candidates(s.candidates, s.colors(), visible, set(s.selected), size, new_view=new_view,
                                        vertex_errors=errors)
        elif s.image is not None:
            placeholder = s.placeholder()
            self.view3d.show_candidates(placeholder, None, [0] if placeholder else [], set(), size,
                                        placeholder=True, new_view=new_view)
        else:
            self.view3d.show_candidates(None, None, [], set(), size)
        focal, principal = default_focal(size), np.array(size, np.float64) / 2
        others = other_people_best(s) if s.show_all_people and s.image is not None else []
        self.view3d.show_others([(o.candidates.vertices(o.best) + o.candidates.translation(o.best, focal, principal),
                                  o.color) for o in others])

    def set_all_visible(self, visible: bool) -> None:
        s = self.state
        if s.candidates is None:
            return
        if visible:
            s.visible = frozenset(range(len(s.candidates)))
        else:
            s.visible = frozenset(s.selected)
        s.visibilityChanged.emit()

    def show_message(self, text: str) -> None:
        self.status_message.setText(text)

    # --- layout persistence ------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry = self.settings.bytes_value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.bytes_value("window/state")
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)
            for dock in self.docks.values():
                if self.state.project is None:
                    dock.setVisible(False)
        sizes = self.settings.int_list("window/splitter")
        if sizes and len(sizes) == 2 and sum(sizes) > 0:
            self.splitter.setSizes(sizes)

    def save_layout(self) -> None:
        self.settings.set_value("window/geometry", QByteArray(self.saveGeometry()))
        if self.state.project is not None:
            self.settings.set_value("window/state", QByteArray(self.saveState(LAYOUT_VERSION)))
            self.settings.set_value("window/splitter", self.splitter.sizes())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if not self.keep_scratch("quit"):
            event.ignore()
            return
        self.save_layout()
        if self.state.project is None or self.scratch_dir is not None:
            self.settings.clear_last_project()
        self.tasks.cancel()
        self.browser.thumbnails.stop()
        QThreadPool.globalInstance().waitForDone(10_000)
        self.state.set_project(None)
        self.discard_scratch()
        self.view3d.close_plotter()
        super().closeEvent(event)
