"""The detected person's mask as an outline over the photo (a toggle of the image view).

The mask is the pose detector's person probability (stored as PNG bytes on the person
row); the outline is its 0.5 contour, drawn with a cosmetic pen so it stays one line
wide at any zoom.
"""

from __future__ import annotations

import cv2
import numpy as np
from PyQt6.QtCore import QPointF
from PyQt6.QtGui import QColor, QPainterPath, QPen
from PyQt6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from app.colors import MASK_COLOR
from engine.data.masks import decode_mask
from engine.errors import DataError

# Contours shorter than this many pixels are specks of a stray probability, not a person.
MIN_CONTOUR_POINTS = 8


def outline_path(mask: np.ndarray) -> QPainterPath:
    """The 0.5 contours of an (H, W) probability map as one path in image pixels."""
    binary = (np.asarray(mask) >= 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    path = QPainterPath()
    for c in contours:
        if len(c) < MIN_CONTOUR_POINTS:
            continue
        pts = c[:, 0, :].astype(float) + 0.5  # pixel centres
        path.moveTo(QPointF(*pts[0]))
        for x, y in pts[1:]:
            path.lineTo(QPointF(x, y))
        path.closeSubpath()
    return path


class MaskOutline:
    """One outline item kept in a scene: ``set_mask`` replaces it, ``set_visible`` toggles."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self.scene = scene
        self.visible = False
        self.item: QGraphicsPathItem | None = None

    def set_mask(self, mask: bytes | np.ndarray | None) -> None:
        """The person's mask (PNG bytes or an (H, W) map), or None for none."""
        if self.item is not None:
            self.scene.removeItem(self.item)
            self.item = None
        if mask is None:
            return
        try:
            probability = decode_mask(mask) if isinstance(mask, (bytes, bytearray)) else np.asarray(mask)
        except DataError:
            return  # a damaged mask is drawn as none; the person's other data still shows
        item = QGraphicsPathItem(outline_path(probability))
        pen = QPen(QColor(*MASK_COLOR), 2.0)
        pen.setCosmetic(True)
        item.setPen(pen)
        item.setZValue(2.5)  # over the meshes, under the keypoints
        item.setVisible(self.visible)
        self.scene.addItem(item)
        self.item = item

    def set_visible(self, visible: bool) -> None:
        self.visible = bool(visible)
        if self.item is not None:
            self.item.setVisible(self.visible)
