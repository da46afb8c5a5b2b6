"""Two candidate meshes side by side: A and B over the photo (2D) and next to each other in 3D.

Used by the curation panel (two candidates of one person) and the before/after dialog
(the best candidate of two models). Each 2D view starts zoomed to the person's box; the
two zoom and pan together (wheel or drag in either). The 3D view stands A (left) and B
(right) next to each other, seen from the photo's side by one camera framed to hold both
bodies whole; *As in the photo* puts both where the photo's camera sees them instead.
"""

from __future__ import annotations

import math

import numpy as np
import pyvista as pv
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from app.candidate_set import CandidateSet
from app.views.image_overlay import ImageOverlayView
from app.views.mesh_view_3d import default_focal

A_COLOR = (66, 135, 245)
B_COLOR = (245, 145, 40)
BOX_PAD = 0.15
GAP_M = 0.25
BACKGROUND = (0.16, 0.16, 0.18)
FRAME_MARGIN = 1.08
"""Half-extent of the 3D view over the bodies' half-extent: a thin border round both."""


def side_colors(n: int, color: tuple[int, int, int]) -> np.ndarray:
    """(n, 3) uint8, every candidate in one colour (each view shows one of them)."""
    return np.tile(np.asarray(color, np.uint8), (max(n, 0), 1))


class FocusedOverlayView(ImageOverlayView):
    """An overlay view that fits a region of the photo (the person's box) instead of all of it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.focus_rect: QRectF | None = None
        for policy in (self.setHorizontalScrollBarPolicy, self.setVerticalScrollBarPolicy):
            policy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_focus_box(self, box: tuple[float, float, float, float] | None) -> None:
        """Fit ``box`` (x0, y0, x1, y1 px), padded, from now on; None fits the photo."""
        if box is None:
            self.focus_rect = None
        else:
            x0, y0, x1, y1 = box
            pad = BOX_PAD * max(x1 - x0, y1 - y0)
            self.focus_rect = QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)
        self.fit()

    def fit(self) -> None:
        if self.focus_rect is None or self.image_size[0] == 0:
            super().fit()
            return
        self.fitInView(self.focus_rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._auto_fit = True
        self.zoomChanged.emit(self.zoom())

    def resizeEvent(self, event) -> None:
        # The view keeps scroll range round the focus box, so Qt's re-centring on resize
        # scrolls, which would count as the user's pan and stop the re-fit.
        auto = self._auto_fit
        super().resizeEvent(event)
        if auto and not self._auto_fit:
            self.fit()

    def center(self) -> tuple[float, float]:
        """The image point (x, y px) at the middle of the view."""
        p = self.mapToScene(self.viewport().rect().center())
        return p.x(), p.y()

    def follow(self, other: FocusedOverlayView) -> None:
        """Take ``other``'s zoom and centre (the linked view of a pair)."""
        self.setTransform(other.transform())
        self.centerOn(*other.center())
        self._auto_fit = other._auto_fit


class PairView3D(QWidget):
    """Two full meshes, A blue and B orange, under one camera: side by side (A left, B
    right) seen from the photo's side, or *as in the photo* (each where the photo's camera
    sees it, the camera at the photo's)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plotter = QtInteractor(self, auto_update=False, multi_samples=0)
        self.plotter.set_background(BACKGROUND)
        # Keys belong to the panel (A, B, X, S...): VTK's own bindings would steal them.
        self.plotter.interactor.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.title = QLabel("3D: A left, B right")
        self.aligned_check = QCheckBox("As in the photo")
        self.aligned_check.setToolTip("Both bodies where the photo's camera sees them, seen from that camera")
        self.aligned_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addStretch(1)
        bar.addWidget(self.title)
        bar.addStretch(1)
        bar.addWidget(self.aligned_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.plotter.interactor, 1)
        self._faces: np.ndarray | None = None
        self._meshes: list[pv.PolyData] = []
        self._actors = []
        self._shown: tuple = ()
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None
        self.aligned_check.toggled.connect(lambda _on: self._place())

    def _ensure(self, faces: np.ndarray, num_points: int) -> None:
        if self._faces is faces:
            return
        for actor in self._actors:
            self.plotter.remove_actor(actor, render=False)
        cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces]).ravel()
        self._meshes = [pv.PolyData(np.zeros((num_points, 3), np.float32), cells) for _ in range(2)]
        self._actors = [
            self.plotter.add_mesh(m, color=tuple(c / 255 for c in color), name=f"side-{k}", specular=0.2,
                                  smooth_shading=False, reset_camera=False, render=False)
            for k, (m, color) in enumerate(zip(self._meshes, (A_COLOR, B_COLOR)))
        ]
        self._faces = faces

    def show_pair(self, vertices_a: np.ndarray | None, vertices_b: np.ndarray | None, faces: np.ndarray,
                  translations: tuple[np.ndarray, np.ndarray] | None = None,
                  image_size: tuple[int, int] = (0, 0)) -> None:
        """vertices_*: (V, 3) metres, camera-oriented (y down), or None to leave a side empty.

        translations: (3,) metres each, where the photo's camera sees A and B (for *As in
        the photo*); image_size: the photo's (width, height) px, for that camera's angle.
        """
        if vertices_a is None and vertices_b is None:
            self.clear()
            return
        self._ensure(faces, len(vertices_a if vertices_a is not None else vertices_b))
        self._shown = (vertices_a, vertices_b, translations, image_size)
        self.aligned_check.setEnabled(translations is not None)
        self._place()

    def _place(self) -> None:
        """Put the meshes and the camera for the current layout."""
        if not self._shown:
            return
        vertices_a, vertices_b, translations, image_size = self._shown
        aligned = self.aligned_check.isChecked() and translations is not None
        present = [v for v in (vertices_a, vertices_b) if v is not None]
        offset = max(float(np.ptp(v[:, 0])) for v in present) / 2 + GAP_M / 2
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        for k, (verts, mesh, actor) in enumerate(zip((vertices_a, vertices_b), self._meshes, self._actors)):
            if verts is None:
                actor.SetVisibility(False)
                continue
            if aligned:
                points = verts + translations[k]
            else:
                centre = (verts.min(0) + verts.max(0)) / 2
                points = verts - centre + np.array([-offset if k == 0 else offset, 0.0, 0.0])
            mesh.points = points.astype(np.float32)
            lo, hi = np.minimum(lo, points.min(0)), np.maximum(hi, points.max(0))
            actor.SetVisibility(True)
        self.title.setText("3D: A and B as the photo's camera sees them" if aligned else "3D: A left, B right")
        self._bounds = None if aligned else (lo, hi)
        if aligned:
            self._look_from_photo(image_size, float((lo[2] + hi[2]) / 2))
        else:
            self._frame()

    def _look_from_photo(self, image_size: tuple[int, int], depth: float) -> None:
        """The photo's camera: origin, looking down +z, y down, its vertical angle."""
        w, h = image_size if image_size[0] else (640, 480)
        cam = self.plotter.camera
        cam.position = (0.0, 0.0, 0.0)
        cam.focal_point = (0.0, 0.0, depth)
        cam.up = (0.0, -1.0, 0.0)
        cam.view_angle = math.degrees(2 * math.atan(h / 2 / default_focal((w, h))))
        self.plotter.reset_camera_clipping_range()
        self.plotter.interactor.update()

    def _frame(self) -> None:
        """Look from the photo's side (-z, y down) from just far enough that the box of
        both bodies fills the view at its current aspect ratio, heads and feet included."""
        if self._bounds is None:
            return
        lo, hi = self._bounds
        cam = self.plotter.camera
        cam.view_angle = 30.0
        w, h = max(self.plotter.interactor.width(), 1), max(self.plotter.interactor.height(), 1)
        half = FRAME_MARGIN * max((hi[1] - lo[1]) / 2, (hi[0] - lo[0]) / 2 * h / w)
        distance = half / math.tan(math.radians(cam.view_angle) / 2) + (hi[2] - lo[2]) / 2
        centre = (lo + hi) / 2
        cam.focal_point = tuple(float(c) for c in centre)
        cam.position = (float(centre[0]), float(centre[1]), float(centre[2] - distance))
        cam.up = (0.0, -1.0, 0.0)
        self.plotter.reset_camera_clipping_range()
        self.plotter.interactor.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._frame()

    def framed(self) -> bool:
        """Whether every shown vertex projects inside the view (for tests)."""
        renderer = self.plotter.renderer
        for mesh, actor in zip(self._meshes, self._actors):
            if not actor.GetVisibility():
                continue
            for point in mesh.points[:: max(len(mesh.points) // 500, 1)]:
                renderer.SetWorldPoint(*(float(c) for c in point), 1.0)
                renderer.WorldToDisplay()
                x, y, _ = renderer.GetDisplayPoint()
                width, height = renderer.GetSize()
                if not (0 <= x <= width and 0 <= y <= height):
                    return False
        return True

    def clear(self) -> None:
        self._shown = ()
        self._bounds = None
        for actor in self._actors:
            actor.SetVisibility(False)
        self.plotter.interactor.update()

    def shown(self) -> list[bool]:
        """Whether side A and side B are drawn (for tests)."""
        return [bool(a.GetVisibility()) for a in self._actors] or [False, False]

    def close_plotter(self) -> None:
        self.plotter.close()


class ABCompare(QWidget):
    """Titles, two focused overlay views and their info lines, and (optionally) the 3D pair."""

    def __init__(self, parent: QWidget | None = None, show_3d: bool = True) -> None:
        super().__init__(parent)
        self.title_a = self._title("A", A_COLOR)
        self.title_b = self._title("B", B_COLOR)
        self.view_a = FocusedOverlayView(self)
        self.view_b = FocusedOverlayView(self)
        self.info_a = QLabel()
        self.info_b = QLabel()
        for view in (self.view_a, self.view_b):
            view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            view.show_keypoints = False
            view.setMinimumSize(80, 40)
        self._linking = False
        for source, target in ((self.view_a, self.view_b), (self.view_b, self.view_a)):
            for signal in (source.zoomChanged, source.horizontalScrollBar().valueChanged,
                           source.verticalScrollBar().valueChanged):
                signal.connect(lambda _v, s=source, t=target: self._follow(s, t))
        for info in (self.info_a, self.info_b):
            info.setAlignment(Qt.AlignmentFlag.AlignCenter)
            info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.view3d = PairView3D(self) if show_3d else None
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addWidget(self.title_a, 0, 0)
        grid.addWidget(self.title_b, 0, 1)
        grid.addWidget(self.view_a, 1, 0)
        grid.addWidget(self.view_b, 1, 1)
        grid.addWidget(self.info_a, 2, 0)
        grid.addWidget(self.info_b, 2, 1)
        grid.setRowStretch(1, 1)
        if self.view3d is not None:
            grid.addWidget(self.view3d, 0, 2, 3, 1)
            grid.setColumnStretch(2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self._photo_key: object = None

    def _follow(self, source: FocusedOverlayView, target: FocusedOverlayView) -> None:
        """Zoom and pan in one view move the other alike (guarded: each follows once)."""
        if self._linking:
            return
        self._linking = True
        try:
            target.follow(source)
        finally:
            self._linking = False

    @staticmethod
    def _title(text: str, color: tuple[int, int, int]) -> QLabel:
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        r, g, b = color
        label.setStyleSheet(f"QLabel {{ background: rgb({r},{g},{b}); color: black; font-weight: bold; "
                            f"border-radius: 3px; padding: 1px 6px; }}")
        return label

    def set_titles(self, a: str, b: str) -> None:
        self.title_a.setText(a)
        self.title_b.setText(b)

    def set_photo(self, rgb: np.ndarray | None, size: tuple[int, int] | None = None, key: object = None) -> None:
        """The photo both views show ((H, W, 3) uint8, or a grey ``size`` placeholder).

        key: identifies the photo; the same key again skips the upload.
        """
        if key is not None and key == self._photo_key:
            return
        self._photo_key = key
        for view in (self.view_a, self.view_b):
            view.set_photo(rgb, size)

    def show_pair(self, cset_a: CandidateSet, ia: int, cset_b: CandidateSet, ib: int,
                  box: tuple[float, float, float, float] | None = None,
                  info_a: str = "", info_b: str = "") -> None:
        """Candidate ``ia`` of ``cset_a`` as A and ``ib`` of ``cset_b`` as B (often one set)."""
        self._linking = True  # each view fits the box itself; neither follows the other meanwhile
        try:
            for view, cset, i, color in ((self.view_a, cset_a, ia, A_COLOR), (self.view_b, cset_b, ib, B_COLOR)):
                view.set_candidates(cset, side_colors(len(cset), color))
                view.set_shown([int(i)])
                view.set_focus_box(box)
        finally:
            self._linking = False
        self.info_a.setText(info_a)
        self.info_b.setText(info_b)
        if self.view3d is not None and cset_a.decoder is not None:
            size = self.view_a.image_size
            focal, principal = default_focal(size), np.array(size, np.float64) / 2
            translations = (cset_a.translation(ia, focal, principal), cset_b.translation(ib, focal, principal))
            self.view3d.show_pair(cset_a.vertices(ia), cset_b.vertices(ib), cset_a.decoder.faces,
                                  translations, size)

    def clear(self, message: str = "") -> None:
        for view in (self.view_a, self.view_b):
            view.set_candidates(None, np.zeros((0, 3), np.uint8))
        self.info_a.setText(message)
        self.info_b.setText("")
        if self.view3d is not None:
            self.view3d.clear()

    def close_plotter(self) -> None:
        if self.view3d is not None:
            self.view3d.close_plotter()
