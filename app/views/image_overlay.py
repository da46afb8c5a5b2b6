"""The photo with the selected candidates' meshes, the 2D keypoints and the person boxes.

Zoom with the wheel (about the cursor), pan by dragging, F fits the photo. In box mode
(or with Shift held) a drag draws a box and emits ``boxDrawn`` in image pixels: the main
window re-runs the detector inside it to pick a person in a crowded photo.

Each candidate's mesh is drawn once into a small shade image (``mesh_raster``) and cached
on its candidate set; showing, hiding, recolouring and changing the opacity only re-tint
that image.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsItemGroup,
    QGraphicsLineItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from app.candidate_set import CandidateSet
from app.colors import BOX_COLOR, KEYPOINT_COLOR
from app.views.mesh_raster import ShadeImage, colorize, render_fill, render_wire

COCO_SKELETON = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)
MIN_KEYPOINT_CONFIDENCE = 0.3
KEYPOINT_RADIUS_PX = 3.5
ZOOM_STEP = 1.15


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB -> a QImage owning its pixels."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """(H, W, 4) uint8 RGBA (straight alpha) -> a QImage owning its pixels."""
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class ImageOverlayView(QGraphicsView):
    """QGraphicsView of one photo and its overlays.

    Call ``set_photo``, ``set_candidates``, ``set_shown`` and ``set_persons``; read
    ``candidate_items`` (candidate index -> pixmap item) to see what is drawn.
    """

    boxDrawn = pyqtSignal(float, float, float, float)
    zoomChanged = pyqtSignal(float)
    clicked = pyqtSignal(float, float)
    """A click without a drag, in image pixels (the window selects the person there)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setBackgroundBrush(QBrush(QColor(40, 40, 44)))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._photo_item = QGraphicsPixmapItem()
        self._photo_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._photo_item)
        self._image_size: tuple[int, int] = (0, 0)
        self._candidates: CandidateSet | None = None
        self._colors: np.ndarray = np.zeros((0, 3), np.uint8)
        self.candidate_items: dict[int, QGraphicsPixmapItem] = {}
        self.other_items: list[QGraphicsPixmapItem] = []
        self._others: list[tuple[CandidateSet, int, tuple[int, int, int]]] = []
        self._press_at: QPointF | None = None
        self.keypoint_group: QGraphicsItemGroup | None = None
        self.box_items: list[QGraphicsRectItem] = []
        self.mode = "fill"
        self.opacity = 0.6
        self.show_keypoints = True
        self.box_mode = False
        self._band_start: QPointF | None = None
        self._band_item: QGraphicsRectItem | None = None
        self._shown: list[int] = []
        self._keypoints: np.ndarray | None = None
        self._auto_fit = True

    # --- content ---------------------------------------------------------------------

    def set_photo(self, rgb: np.ndarray | None, size: tuple[int, int] | None = None) -> None:
        """Show a photo ((H, W, 3) uint8) or a grey placeholder of ``size`` (w, h)."""
        if rgb is not None:
            self._photo_item.setPixmap(QPixmap.fromImage(rgb_to_qimage(rgb)))
            self._image_size = (rgb.shape[1], rgb.shape[0])
        else:
            w, h = size or (640, 480)
            pm = QPixmap(w, h)
            pm.fill(QColor(80, 80, 80))
            self._photo_item.setPixmap(pm)
            self._image_size = (w, h)
        self.scene().setSceneRect(QRectF(0, 0, *self._image_size))
        self.fit()

    def clear_photo(self) -> None:
        self._photo_item.setPixmap(QPixmap())
        self._image_size = (0, 0)
        self.set_candidates(None, np.zeros((0, 3), np.uint8))
        self.set_others([])
        self.set_persons([], None)
        self.set_keypoints(None)

    @property
    def image_size(self) -> tuple[int, int]:
        return self._image_size

    def set_candidates(self, candidates: CandidateSet | None, colors: np.ndarray) -> None:
        """A candidate set (its drawings are cached on it) and its (N, 3) uint8 colours.

        Another set clears the drawing until ``set_shown`` says what to show of it.
        """
        shown = self._shown if candidates is self._candidates else []
        self._candidates = candidates
        self._colors = np.asarray(colors, np.uint8)
        self.set_shown(shown)

    def set_shown(self, indices: list[int], force: bool = True) -> None:
        """Draw these candidates (indices into the set), later ones on top.

        force: False skips the redraw when the same candidates are already drawn.
        """
        if not force and list(indices) == self._shown and set(self.candidate_items) <= set(indices):
            return
        self._shown = list(indices)
        for item in self.candidate_items.values():
            self.scene().removeItem(item)
        self.candidate_items = {}
        if self._candidates is None:
            return
        self._candidates.ensure_decoded([i for i in self._shown if (i, self.mode) not in self._candidates.overlay])
        for z, i in enumerate(self._shown):
            rgb = tuple(int(c) for c in self._colors[i]) if i < len(self._colors) else (255, 255, 255)
            item = self._mesh_item(self._candidates, i, rgb, 1 + z * 1e-3)
            if item is not None:
                self.candidate_items[i] = item
        self._draw_others()

    def set_others(self, others: list[tuple[CandidateSet, int, tuple[int, int, int]]]) -> None:
        """Other people's meshes, drawn under the current person's: (their candidate set,
        the candidate's index in it, its RGB colour) each; [] draws none."""
        self._others = list(others)
        self._draw_others()

    def _draw_others(self) -> None:
        for item in self.other_items:
            self.scene().removeItem(item)
        self.other_items = []
        for cset, i, rgb in self._others:
            cset.ensure_decoded([i])
            item = self._mesh_item(cset, i, rgb, 0.5)
            if item is not None:
                self.other_items.append(item)

    def _mesh_item(self, cset: CandidateSet, i: int, rgb: tuple[int, int, int], z: float) -> QGraphicsPixmapItem | None:
        shade = self._shade(i, cset)
        if shade is None:
            return None
        rgba = colorize(shade.shade, rgb, self.opacity if self.mode == "fill" else 0.95, wire=self.mode == "wire")
        item = QGraphicsPixmapItem(QPixmap.fromImage(rgba_to_qimage(rgba)))
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        item.setOffset(0, 0)
        item.setPos(shade.x0, shade.y0)
        item.setScale(1.0 / shade.scale)
        item.setZValue(z)
        self.scene().addItem(item)
        return item

    def _shade(self, i: int, cset: CandidateSet | None = None) -> ShadeImage | None:
        cset = cset if cset is not None else self._candidates
        key = (i, self.mode, self._image_size)
        if key not in cset.overlay:
            vertices = cset.vertices(i)
            px = cset.vertices_px(i)
            if self.mode == "fill":
                cset.overlay[key] = render_fill(vertices, px, cset.decoder.overlay_faces, self._image_size)
            else:
                cset.overlay[key] = render_wire(vertices, px, cset.decoder.wire_faces, self._image_size)
        return cset.overlay[key]

    def set_mode(self, mode: str) -> None:
        """'fill' (shaded, translucent) or 'wire' (front edges)."""
        if mode not in ("fill", "wire"):
            raise ValueError(f"overlay mode must be 'fill' or 'wire', got {mode!r}")
        self.mode = mode
        self.set_shown(self._shown)

    def set_opacity(self, opacity: float) -> None:
        self.opacity = float(np.clip(opacity, 0.05, 1.0))
        self.set_shown(self._shown)

    def set_keypoints(self, keypoints: np.ndarray | None) -> None:
        """The person's 2D keypoints (17, 3): x, y pixels and confidence; None to clear."""
        self._keypoints = None if keypoints is None else np.asarray(keypoints, np.float64)
        if self.keypoint_group is not None:
            self.scene().removeItem(self.keypoint_group)
            self.keypoint_group = None
        if self._keypoints is None or not self.show_keypoints:
            return
        kp = self._keypoints
        ok = kp[:, 2] >= MIN_KEYPOINT_CONFIDENCE
        group = QGraphicsItemGroup()
        pen = QPen(QColor(*KEYPOINT_COLOR), 2.0)
        pen.setCosmetic(True)  # the same on screen at any zoom
        for a, b in COCO_SKELETON:
            if ok[a] and ok[b]:
                line = QGraphicsLineItem(kp[a, 0], kp[a, 1], kp[b, 0], kp[b, 1])
                line.setPen(pen)
                group.addToGroup(line)
        r = KEYPOINT_RADIUS_PX
        dot_pen = QPen(QColor(*KEYPOINT_COLOR), 1.5)
        for x, y, _ in kp[ok]:
            dot = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
            dot.setPos(x, y)
            dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            dot.setBrush(QBrush(QColor(255, 255, 255)))
            dot.setPen(dot_pen)
            group.addToGroup(dot)
        group.setZValue(3)
        self.scene().addItem(group)
        self.keypoint_group = group

    def set_show_keypoints(self, show: bool) -> None:
        self.show_keypoints = bool(show)
        self.set_keypoints(self._keypoints)

    def set_persons(self, boxes: list[tuple[float, float, float, float]], current: int | None) -> None:
        """Draw the person boxes; the current one (index into boxes) solid, others dashed."""
        for item in self.box_items:
            self.scene().removeItem(item)
        self.box_items = []
        for k, (x0, y0, x1, y1) in enumerate(boxes):
            pen = QPen(QColor(*BOX_COLOR), 2.0 if k == current else 1.5)
            pen.setCosmetic(True)
            if k != current:
                pen.setStyle(Qt.PenStyle.DashLine)
            item = QGraphicsRectItem(QRectF(x0, y0, x1 - x0, y1 - y0))
            item.setPen(pen)
            item.setZValue(4)
            self.scene().addItem(item)
            self.box_items.append(item)

    # --- zoom and pan ----------------------------------------------------------------

    def fit(self) -> None:
        """Fit the photo in the view."""
        if self._image_size[0] > 0:
            self.fitInView(self._photo_item, Qt.AspectRatioMode.KeepAspectRatio)
            self._auto_fit = True
            self.zoomChanged.emit(self.zoom())

    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return float(self.transform().m11())

    def zoom_by(self, factor: float) -> None:
        new = self.zoom() * factor
        if not 0.02 <= new <= 50:
            return
        self.scale(factor, factor)
        self._auto_fit = False
        self.zoomChanged.emit(self.zoom())

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if dx or dy:
            self._auto_fit = False

    # --- box drawing -----------------------------------------------------------------

    def set_box_mode(self, on: bool) -> None:
        self.box_mode = bool(on)
        self.setDragMode(QGraphicsView.DragMode.NoDrag if on else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.OpenHandCursor)

    def _drawing(self, event) -> bool:
        return self.box_mode or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)

    def mousePressEvent(self, event) -> None:
        self._press_at = event.position() if event.button() == Qt.MouseButton.LeftButton else None
        if event.button() == Qt.MouseButton.LeftButton and self._drawing(event) and self._image_size[0]:
            self._band_start = self.mapToScene(event.position().toPoint())
            self._band_item = QGraphicsRectItem()
            pen = QPen(QColor(255, 255, 255), 0)
            pen.setStyle(Qt.PenStyle.DashLine)
            self._band_item.setPen(pen)
            self._band_item.setZValue(10)
            self.scene().addItem(self._band_item)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._band_start is not None:
            end = self.mapToScene(event.position().toPoint())
            self._band_item.setRect(QRectF(self._band_start, end).normalized())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._band_start is not None and event.button() == Qt.MouseButton.LeftButton:
            rect = self._band_item.rect().intersected(QRectF(0, 0, *self._image_size))
            self.scene().removeItem(self._band_item)
            self._band_item = None
            self._band_start = None
            if rect.width() >= 8 and rect.height() >= 8:
                self.boxDrawn.emit(rect.left(), rect.top(), rect.right(), rect.bottom())
            event.accept()
            return
        press, self._press_at = self._press_at, None
        super().mouseReleaseEvent(event)
        if press is not None and event.button() == Qt.MouseButton.LeftButton and self._image_size[0]:
            moved = event.position() - press
            if abs(moved.x()) + abs(moved.y()) <= 4:  # a click, not a pan
                at = self.mapToScene(event.position().toPoint())
                self.clicked.emit(at.x(), at.y())

    def items_of_kind(self, kind: type[QGraphicsItem]) -> list[QGraphicsItem]:
        """Scene items of a type (for tests and screenshots)."""
        return [it for it in self.scene().items() if isinstance(it, kind)]
