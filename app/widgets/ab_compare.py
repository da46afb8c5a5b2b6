"""Two candidate meshes side by side: A and B over the photo (2D) and next to each other in 3D.

Used by the curation panel (two candidates of one person) and the before/after dialog
(the best candidate of two models). Each 2D view zooms to the person's box; the 3D view
stands A (left) and B (right) next to each other, both seen from the photo's side.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget
from pyvistaqt import QtInteractor

from app.candidate_set import CandidateSet
from app.views.image_overlay import ImageOverlayView

A_COLOR = (66, 135, 245)
B_COLOR = (245, 145, 40)
BOX_PAD = 0.15
GAP_M = 0.25
BACKGROUND = (0.16, 0.16, 0.18)
FILL_ZOOM = 1.8


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


class PairView3D(QWidget):
    """Two full meshes next to each other, A left and B right, with a camera at the photo's side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plotter = QtInteractor(self, auto_update=False, multi_samples=0)
        self.plotter.set_background(BACKGROUND)
        # Keys belong to the panel (A, B, X, S...): VTK's own bindings would steal them.
        self.plotter.interactor.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.plotter.interactor, 0, 0)
        self._faces: np.ndarray | None = None
        self._meshes: list[pv.PolyData] = []
        self._actors = []

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

    def show_pair(self, vertices_a: np.ndarray | None, vertices_b: np.ndarray | None, faces: np.ndarray) -> None:
        """vertices_*: (V, 3) metres, camera-oriented (y down), or None to leave a side empty."""
        present = [v for v in (vertices_a, vertices_b) if v is not None]
        if not present:
            self.clear()
            return
        self._ensure(faces, len(present[0]))
        widths = [float(np.ptp(v[:, 0])) for v in present]
        offset = max(widths) / 2 + GAP_M / 2
        for k, (verts, mesh, actor) in enumerate(zip((vertices_a, vertices_b), self._meshes, self._actors)):
            if verts is None:
                actor.SetVisibility(False)
                continue
            centre = (verts.min(0) + verts.max(0)) / 2
            mesh.points = (verts - centre + np.array([-offset if k == 0 else offset, 0.0, 0.0])).astype(np.float32)
            actor.SetVisibility(True)
        cam = self.plotter.camera
        cam.position = (0.0, -0.3, -4.0)
        cam.focal_point = (0.0, 0.0, 0.0)
        cam.up = (0.0, -1.0, 0.0)
        self.plotter.reset_camera()
        # reset_camera fits the bounding sphere; two people side by side fill a wide view.
        cam.zoom(FILL_ZOOM)
        self.plotter.reset_camera_clipping_range()
        self.plotter.interactor.update()

    def clear(self) -> None:
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
            title3d = QLabel("3D: A left, B right")
            title3d.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(title3d, 0, 2)
            grid.addWidget(self.view3d, 1, 2, 2, 1)
            grid.setColumnStretch(2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self._photo_key: object = None

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
        for view, cset, i, color in ((self.view_a, cset_a, ia, A_COLOR), (self.view_b, cset_b, ib, B_COLOR)):
            view.set_candidates(cset, side_colors(len(cset), color))
            view.set_shown([int(i)])
            view.set_focus_box(box)
        self.info_a.setText(info_a)
        self.info_b.setText(info_b)
        if self.view3d is not None and cset_a.decoder is not None:
            self.view3d.show_pair(cset_a.vertices(ia), cset_b.vertices(ib), cset_a.decoder.faces)

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
