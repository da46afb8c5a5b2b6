"""Image thumbnails, loaded lazily off the GUI thread and kept in memory.

The browser asks ``get(path)`` when a row is painted: a cached thumbnail comes back at
once, otherwise None, and the path is queued. One superqt generator worker decodes the
queue (JPEG at a reduced scale, which is several times faster than a full decode) and
yields QImages; they become pixmaps on the GUI thread and ``ready`` tells the model
which rows to repaint.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QImage, QPixmap
from superqt.utils import create_worker

log = logging.getLogger(__name__)

THUMB_SIZE = 48
MAX_CACHED = 5000


def load_thumbnail(path: str | Path, size: int = THUMB_SIZE) -> QImage | None:
    """A QImage fitting ``size`` x ``size``, or None if the file is unreadable."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_4)
    if image is None or min(image.shape[:2]) < size // 2:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        return None
    h, w = image.shape[:2]
    k = size / max(h, w)
    image = cv2.resize(image, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _load_all(paths: list[str]):
    for p in paths:
        yield p, load_thumbnail(p)


class ThumbnailCache(QObject):
    """Thumbnails by file path; ``ready(path)`` when one arrives."""

    ready = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[str, QPixmap | None] = OrderedDict()
        self._queue: list[str] = []
        self._queued: set[str] = set()
        self._worker = None
        self._placeholder = QPixmap(THUMB_SIZE, THUMB_SIZE)
        self._placeholder.fill(Qt.GlobalColor.darkGray)

    @property
    def placeholder(self) -> QPixmap:
        return self._placeholder

    def get(self, path: str) -> QPixmap | None:
        """The thumbnail if loaded (a grey square for unreadable files), else None."""
        if path in self._cache:
            self._cache.move_to_end(path)
            pm = self._cache[path]
            return pm if pm is not None else self._placeholder
        if path not in self._queued:
            self._queued.add(path)
            self._queue.append(path)
            self._start()
        return None

    def _start(self) -> None:
        if self._worker is not None or not self._queue:
            return
        batch, self._queue = self._queue, []
        self._worker = create_worker(_load_all, batch, _start_thread=False)
        self._worker.yielded.connect(self._arrived)
        self._worker.finished.connect(self._finished)
        self._worker.start()

    def _arrived(self, item: tuple[str, QImage | None]) -> None:
        path, image = item
        self._queued.discard(path)
        self._cache[path] = None if image is None else QPixmap.fromImage(image)
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        self.ready.emit(path)

    def _finished(self) -> None:
        self._worker = None
        self._start()

    def stop(self) -> None:
        """Stop loading (the window is closing)."""
        self._queue.clear()
        if self._worker is not None:
            self._worker.quit()
            self._worker = None

    def pending(self) -> bool:
        return self._worker is not None or bool(self._queue)
