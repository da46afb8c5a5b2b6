"""Thumbnails of pseudo-labels: the person's crop with the label's mesh drawn over it.

``label_thumbnail`` is plain numpy/OpenCV (``app.views.mesh_raster``); ``ThumbnailQueue``
makes them a few at a time on the GUI thread's idle turns (a mesh decode and a draw take
a few milliseconds), so scrolling a long list never waits for all of them.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal
from PyQt6.QtGui import QPixmap

from app.candidate_set import BodyDecoder, CandidateSet, Crop
from app.views.image_overlay import rgb_to_qimage
from app.views.mesh_raster import render_fill
from engine.errors import AdhmrError
from engine.image_io import load_image
from engine.store import PersonRecord

log = logging.getLogger(__name__)

THUMB_SIZE = 72
LABEL_COLOR = (90, 200, 255)
LABEL_OPACITY = 0.6
TICK_BUDGET_S = 0.03
IMAGES_KEPT = 8


def label_set(person: PersonRecord, decoder: BodyDecoder | None, score: float = float("nan")) -> CandidateSet | None:
    """The person's pseudo-label as a one-candidate set (None without a label)."""
    if person.label_params is None:
        return None
    nan = np.array([np.nan])
    return CandidateSet(
        ids=np.array([-1]), run_ids=np.array([-1]), params=np.asarray(person.label_params, np.float32)[None],
        scores=np.array([score]), errors={"mpjpe": nan, "pa_mpjpe": nan, "pve": nan},
        crop=Crop.of_box(person.box), decoder=decoder,
    )


def label_thumbnail(image_rgb: np.ndarray, box, label: CandidateSet | None, size: int = THUMB_SIZE) -> np.ndarray:
    """(size, size, 3) uint8: the square crop around ``box`` with the label drawn in.

    image_rgb: (H, W, 3) uint8. box: x0, y0, x1, y1 px. label: from ``label_set`` (its
    first candidate is drawn) or None for the crop alone.
    """
    crop = Crop.of_box(box)
    scale = size / crop.size
    corner = crop.center - crop.size / 2
    to_thumb = np.array([[scale, 0, -corner[0] * scale], [0, scale, -corner[1] * scale]], np.float64)
    thumb = cv2.warpAffine(image_rgb, to_thumb, (size, size), flags=cv2.INTER_AREA,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(40, 40, 44))
    if label is None or label.decoder is None:
        return thumb
    px = (label.vertices_px(0) - corner) * scale
    shade = render_fill(label.vertices(0), px, label.decoder.overlay_faces, (size, size), max_side=size)
    if shade is None:
        return thumb
    h = max(1, int(round(shade.shade.shape[0] / shade.scale)))
    w = max(1, int(round(shade.shade.shape[1] / shade.scale)))
    small = cv2.resize(shade.shade, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    x0, y0 = int(round(shade.x0)), int(round(shade.y0))
    x1, y1 = min(size, x0 + w), min(size, y0 + h)
    if x1 <= x0 or y1 <= y0:
        return thumb
    part = small[: y1 - y0, : x1 - x0]
    alpha = (part > 0) * LABEL_OPACITY
    tint = part[..., None] * np.asarray(LABEL_COLOR, np.float32)
    region = thumb[y0:y1, x0:x1].astype(np.float32)
    thumb[y0:y1, x0:x1] = (region * (1 - alpha[..., None]) + tint * alpha[..., None]).astype(np.uint8)
    return thumb


class ThumbnailQueue(QObject):
    """Makes label thumbnails on request, a few per event-loop turn; ``ready(key)`` each.

    request(key, image_path, person) queues one; ``get(key)`` is the pixmap or None.
    """

    ready = pyqtSignal(object)

    def __init__(self, decoder: Callable[[], BodyDecoder | None], size: int = THUMB_SIZE,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._decoder = decoder
        self.size = size
        self._pixmaps: dict[object, QPixmap] = {}
        self._pending: OrderedDict[object, tuple[Path, PersonRecord]] = OrderedDict()
        self._images: OrderedDict[Path, np.ndarray | None] = OrderedDict()
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._work)

    def get(self, key) -> QPixmap | None:
        return self._pixmaps.get(key)

    def request(self, key, image_path: Path, person: PersonRecord) -> None:
        if key in self._pixmaps or key in self._pending:
            return
        self._pending[key] = (Path(image_path), person)
        self._timer.start()

    def clear(self) -> None:
        self._pixmaps.clear()
        self._pending.clear()
        self._images.clear()
        self._timer.stop()

    def pending(self) -> int:
        return len(self._pending)

    def _image(self, path: Path) -> np.ndarray | None:
        if path not in self._images:
            try:
                self._images[path] = load_image(path)
            except AdhmrError as exc:
                log.info("%s", exc)
                self._images[path] = None
            while len(self._images) > IMAGES_KEPT:
                self._images.popitem(last=False)
        return self._images[path]

    def _work(self) -> None:
        start = time.perf_counter()
        while self._pending and time.perf_counter() - start < TICK_BUDGET_S:
            # Newest requests first: those are the rows on screen now.
            key, (path, person) = self._pending.popitem(last=True)
            image = self._image(path)
            if image is None:
                rgb = np.full((self.size, self.size, 3), 60, np.uint8)
            else:
                try:
                    decoder = self._decoder()
                except AdhmrError:
                    decoder = None
                rgb = label_thumbnail(image, person.box, label_set(person, decoder), self.size)
            self._pixmaps[key] = QPixmap.fromImage(rgb_to_qimage(rgb))
            self.ready.emit(key)
        if not self._pending:
            self._timer.stop()
