"""The candidates in 3D (pyvistaqt ``QtInteractor``).

One actor per slot, reused across images: switching images writes new points into the
existing meshes instead of building actors, which keeps 20+ meshes smooth. Selected
candidates are opaque in their score colour, the others translucent.

Every candidate stands where a pinhole camera at the origin (OpenCV frame: looking down
+z, y down) with the image's focal length would see it as its weak-perspective crop
camera does. The focal length is unknown for a photo; like CLIFF, take the image
diagonal in pixels. "Image view" puts the 3D camera there, so the meshes line up with
the photo; a ground plane sits under the lowest vertex.

*Error* colours each selected candidate's vertices by their distance to the person's 3D
label (mm, both bodies aligned at the hips; blue 0 mm, white 75, red 150 and more): the
per-vertex error view, where a label exists. For a photo without ground truth that label
is the body fit a 'fit' job stored (label source 'fit'): the distance to the fit.
"""

from __future__ import annotations

import math

import numpy as np
import pyvista as pv
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from app.candidate_set import CandidateSet
from engine.projects.rendering import error_colors

BACKGROUND = (0.16, 0.16, 0.18)
GROUND_COLOR = (0.45, 0.45, 0.48)
PLACEHOLDER_COLOR = (0.8, 0.8, 0.82)
UNSELECTED_OPACITY = 0.25
FULL_DETAIL_MAX = 4
"""Selected candidates drawn with the full mesh; more selected ones use the coarse mesh,
opaque, so that selecting all 20 stays interactive in software OpenGL."""


def default_focal(image_size: tuple[int, int]) -> float:
    """Focal length in pixels assumed for a photo of (width, height): its diagonal."""
    w, h = image_size
    return float(math.hypot(w, h)) if w and h else 1000.0


def _polydata(num_points: int, faces: np.ndarray) -> pv.PolyData:
    cells = np.hstack([np.full((len(faces), 1), 3, np.int64), faces]).ravel()
    return pv.PolyData(np.zeros((num_points, 3), np.float32), cells)


class _Slot:
    """A reusable candidate: the full mesh for a selected one, a coarse one otherwise.

    Translucent ghosts use a few thousand faces; with 20+ overlapping candidates the
    software renderer is bound by triangles and per-pixel work.
    """

    def __init__(self, plotter: QtInteractor, decoder, name: str) -> None:
        self.full = _polydata(decoder.num_vertices, decoder.faces)
        self.lite = _polydata(len(decoder.lite_ids), decoder.lite_faces)
        self.lite_ids = decoder.lite_ids
        self.full_actor = plotter.add_mesh(self.full, color="white", name=name, reset_camera=False,
                                           smooth_shading=False, specular=0.2, ambient=0.25, render=False)
        self.lite_actor = plotter.add_mesh(self.lite, color="white", name=name + "-ghost",
                                           ambient=0.25, reset_camera=False, render=False)
        # Closed meshes: back faces are never seen through opaque ones, and a translucent
        # ghost reads better with its front only; culling halves the software renderer's
        # per-pixel work, which is what bounds it with many overlapping ghosts.
        for actor in (self.full_actor, self.lite_actor):
            actor.GetProperty().BackfaceCullingOn()
            actor.SetVisibility(False)
        self.candidate: int | None = None
        self.coarse = False

    @property
    def actor(self):
        return self.lite_actor if self.coarse else self.full_actor

    def show(self, points: np.ndarray, rgb: tuple[float, float, float], opacity: float, coarse: bool,
             vertex_rgb: np.ndarray | None = None) -> None:
        """vertex_rgb: (V, 3) uint8 per-vertex colours instead of ``rgb`` (full mesh only)."""
        self.coarse = coarse
        if coarse:
            self.lite.points = points[self.lite_ids]
        else:
            self.full.points = points
        mapper = self.full_actor.GetMapper()
        if vertex_rgb is not None and not coarse:
            self.full.point_data["error_rgb"] = np.asarray(vertex_rgb, np.uint8)
            mapper.SetScalarModeToUsePointFieldData()
            mapper.SelectColorArray("error_rgb")
            mapper.SetColorModeToDirectScalars()
            mapper.ScalarVisibilityOn()
        else:
            mapper.ScalarVisibilityOff()
        prop = self.actor.GetProperty()
        prop.SetColor(rgb)
        prop.SetOpacity(opacity)
        self.full_actor.SetVisibility(not coarse)
        self.lite_actor.SetVisibility(coarse)

    def hide(self) -> None:
        self.full_actor.SetVisibility(False)
        self.lite_actor.SetVisibility(False)
        self.candidate = None

    def remove(self, plotter: QtInteractor) -> None:
        plotter.remove_actor(self.full_actor, render=False)
        plotter.remove_actor(self.lite_actor, render=False)


class MeshView3D(QWidget):
    """The 3D view: candidates, ground plane, camera snap to the photo's view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Software OpenGL is bound by per-pixel work: no multisampling (pyvista's default 8x
        # MSAA costs several times the frame; FXAA smooths edges for a fraction of it) and
        # one light that moves with the camera (above left of it) instead of a 5-light kit.
        self.plotter = QtInteractor(self, auto_update=False, multi_samples=0, lighting="none")
        self.plotter.add_light(pv.Light(position=(-0.4, 0.6, 1.0), focal_point=(0, 0, 0),
                                        light_type="camera light"))
        self.plotter.set_background(BACKGROUND)
        self.plotter.enable_anti_aliasing("fxaa")
        self.snap_button = QToolButton()
        self.snap_button.setText("Image view")
        self.snap_button.setToolTip("Look from the photo's camera (C)")
        self.ground_check = QCheckBox("Ground")
        self.ground_check.setChecked(True)
        self.error_check = QCheckBox("Error")
        self.error_check.setToolTip("Colour the selected candidates by each vertex's distance to the person's 3D "
                                    "label (ground truth, or the body fit a fit job stored): blue 0 mm, white "
                                    "75 mm, red 150 mm and more")
        self.error_check.setEnabled(False)
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.snap_button)
        bar.addWidget(self.ground_check)
        bar.addWidget(self.error_check)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.plotter.interactor, 1)

        self._decoder = None
        self.slots: list[_Slot] = []
        self.other_slots: list[_Slot] = []
        self._ground = pv.Plane(center=(0, 0, 0), direction=(0, -1, 0), i_size=1, j_size=1)
        self._ground_actor = self.plotter.add_mesh(self._ground, color=GROUND_COLOR, opacity=0.6, ambient=0.4,
                                                   name="ground", reset_camera=False, render=False)
        self._ground_actor.SetVisibility(False)
        self._image_size: tuple[int, int] = (0, 0)
        self._center_depth = 3.0
        self._has_view = False
        self.snap_button.clicked.connect(self.snap_to_image)
        self.ground_check.toggled.connect(self._ground_toggled)

    # --- content ---------------------------------------------------------------------

    def _ensure_slots(self, decoder, count: int) -> None:
        if self._decoder is not decoder:
            for slot in self.slots + self.other_slots:
                slot.remove(self.plotter)
            self.slots, self.other_slots = [], []
            self._decoder = decoder
        while len(self.slots) < count:
            self.slots.append(_Slot(self.plotter, decoder, f"candidate-{len(self.slots)}"))

    def show_candidates(self, candidates: CandidateSet | None, colors: np.ndarray, visible: list[int],
                        selected: set[int], image_size: tuple[int, int], placeholder: bool = False,
                        new_view: bool = False, vertex_errors: dict[int, np.ndarray] | None = None) -> None:
        """Show candidates ``visible`` (indices into the set) of a person.

        colors: (N, 3) uint8. selected: indices drawn opaque. placeholder: draw them in
        neutral grey (the average body where no candidates exist yet). new_view: another
        image or person; the camera goes back to the photo's camera. vertex_errors:
        candidate index -> (V,) mm to the 3D label (None: no label); drawn while *Error*
        is checked.
        """
        self.error_check.setEnabled(vertex_errors is not None)
        self._image_size = image_size
        if candidates is None or candidates.decoder is None or not visible:
            for slot in self.slots:
                slot.hide()
            self._ground_actor.SetVisibility(False)
            self.count_label.setText("")
            self.redraw()
            return
        self._ensure_slots(candidates.decoder, len(visible))
        candidates.ensure_decoded(visible)
        focal = default_focal(image_size)
        principal = np.array(image_size, np.float64) / 2
        lowest, depths, lo, hi = -np.inf, [], np.full(3, np.inf), np.full(3, -np.inf)
        detailed = {i for i in visible if i in selected}
        if len(detailed) > FULL_DETAIL_MAX:
            detailed = set([i for i in visible if i in selected][:FULL_DETAIL_MAX])
        for slot, i in zip(self.slots, visible):
            points = candidates.vertices(i) + candidates.translation(i, focal, principal).astype(np.float32)
            chosen = placeholder or i in selected
            rgb = PLACEHOLDER_COLOR if placeholder else tuple(float(c) / 255 for c in colors[i])
            opacity = 1.0 if chosen else (UNSELECTED_OPACITY if selected else 0.5)
            errors = vertex_errors.get(i) if vertex_errors and self.error_check.isChecked() else None
            slot.show(points, rgb, opacity, coarse=not placeholder and i not in detailed,
                      vertex_rgb=None if errors is None else error_colors(errors))
            slot.candidate = int(i)
            lowest = max(lowest, float(points[:, 1].max()))
            lo, hi = np.minimum(lo, points.min(0)), np.maximum(hi, points.max(0))
            depths.append(float(points[:, 2].mean()))
        for slot in self.slots[len(visible):]:
            slot.hide()
        self._center_depth = float(np.median(depths))
        self._place_ground(lowest, lo, hi)
        n_sel = sum(1 for i in visible if i in selected)
        self.count_label.setText("average body" if placeholder else f"{len(visible)} shown, {n_sel} selected")
        if new_view or not self._has_view:
            self.snap_to_image()
            self._has_view = True
        else:
            self.redraw()

    def show_others(self, others: list[tuple[np.ndarray, tuple[int, int, int]]]) -> None:
        """Other people's best candidates beside the current person's, opaque: (points
        (V, 3) metres where the photo's camera sees them, RGB colour) each; [] for none."""
        if self._decoder is None:
            others = []
        while len(self.other_slots) < len(others):
            self.other_slots.append(_Slot(self.plotter, self._decoder, f"other-person-{len(self.other_slots)}"))
        for slot, (points, rgb) in zip(self.other_slots, others):
            slot.show(np.asarray(points, np.float32), tuple(c / 255 for c in rgb), 1.0, coarse=False)
        for slot in self.other_slots[len(others):]:
            slot.hide()
        self.redraw()

    def others_shown(self) -> int:
        """How many other people's meshes are drawn (for tests)."""
        return sum(1 for s in self.other_slots if s.full_actor.GetVisibility())

    def _place_ground(self, lowest: float, lo: np.ndarray, hi: np.ndarray) -> None:
        size = float(max(hi[0] - lo[0], hi[2] - lo[2], 1.0)) * 2.5
        center = ((lo[0] + hi[0]) / 2, lowest + 0.005, (lo[2] + hi[2]) / 2)
        plane = pv.Plane(center=center, direction=(0, -1, 0), i_size=size, j_size=size)
        self._ground.points = plane.points
        self._ground_actor.SetVisibility(self.ground_check.isChecked())

    def _ground_toggled(self, on: bool) -> None:
        self._ground_actor.SetVisibility(on and any(s.candidate is not None for s in self.slots))
        self.redraw()

    def redraw(self) -> None:
        """Schedule one repaint (an explicit render as well would draw every frame twice)."""
        self.plotter.reset_camera_clipping_range()
        self.plotter.interactor.update()

    def visible_candidates(self) -> dict[int, float]:
        """Candidate index -> opacity of each drawn mesh (for tests)."""
        return {s.candidate: s.actor.GetProperty().GetOpacity() for s in self.slots
                if s.candidate is not None and s.actor.GetVisibility()}

    # --- camera ----------------------------------------------------------------------

    def snap_to_image(self) -> None:
        """Put the 3D camera where the photo's camera is (origin, +z, y down)."""
        w, h = self._image_size if self._image_size[0] else (640, 480)
        focal = default_focal((w, h))
        cam = self.plotter.camera
        cam.position = (0.0, 0.0, 0.0)
        cam.focal_point = (0.0, 0.0, self._center_depth)
        cam.up = (0.0, -1.0, 0.0)
        cam.view_angle = math.degrees(2 * math.atan(h / 2 / focal))
        self.redraw()

    def camera_state(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        cam = self.plotter.camera
        return tuple(cam.position), tuple(cam.focal_point), tuple(cam.up)

    def render_seconds(self, frames: int = 10) -> float:
        """Mean seconds per full redraw (for the benchmark)."""
        import time

        self.plotter.render()
        t0 = time.perf_counter()
        for k in range(frames):
            self.plotter.camera.Azimuth(2.0)
            self.plotter.render()
        return (time.perf_counter() - t0) / frames

    def close_plotter(self) -> None:
        """Free the render window (call before the widget goes away)."""
        self.plotter.close()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_C:
            self.snap_to_image()
            return
        super().keyPressEvent(event)
