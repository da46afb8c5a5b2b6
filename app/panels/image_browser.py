"""The project's images: thumbnail, name, review status, candidates and scorer numbers.

A table model over the store's image list and ``store.image_score_stats``; a proxy filters by
review status and name and sorts by any column (score spread, margin = scorer
uncertainty, status). Selecting a row opens the image; the browser's current order is
the order PgUp/PgDn walk through.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.panels.column_table import ColumnTableModel
from app.panels.thumbnails import THUMB_SIZE, ThumbnailCache
from app.state import AppState
from app.widgets.sort_proxy import MissingLastProxy
from engine import store
from engine.store import IMAGE_STATUSES

COLUMNS = ("Image", "Status", "Cands", "Spread", "Margin", "Dataset")
IMAGE_COLUMN_WIDTH = 150
"""px: the thumbnail and a name (elided in the middle); the numbers keep their room."""
STATUS_COLORS = {
    "unsampled": QColor(150, 150, 150), "sampled": QColor(70, 140, 220),
    "paired": QColor(230, 160, 40), "reviewed": QColor(60, 170, 90),
}
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
STATUS_DOT = 10


def status_icon(color: QColor) -> QIcon:
    """A small filled circle in the status colour."""
    pm = QPixmap(STATUS_DOT, STATUS_DOT)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QBrush(color))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(0, 0, STATUS_DOT - 1, STATUS_DOT - 1)
    p.end()
    return QIcon(pm)
ID_ROLE = Qt.ItemDataRole.UserRole + 2


class ImageListModel(ColumnTableModel):
    """Rows = the project's images in id order."""

    COLUMNS = COLUMNS
    TIPS = ("File name", "unsampled / sampled / paired (pairs to review) / reviewed", "Candidates sampled",
            "Highest minus lowest score", "Best minus second-best score: small = the scorer is uncertain",
            "The dataset the image came in with (shown when there are several)")

    def __init__(self, state: AppState, thumbnails: ThumbnailCache) -> None:
        super().__init__()
        self.state = state
        self.thumbnails = thumbnails
        self.stats: dict[int, store.ImageScoreStats] = {}
        self._paths: list[str] = []
        self._row_of_path: dict[str, int] = {}
        self._status_icons = {k: status_icon(c) for k, c in STATUS_COLORS.items()}
        self.datasets: dict[int, str] = {}
        thumbnails.ready.connect(self._thumbnail_ready)

    def reset(self) -> None:
        self.beginResetModel()
        s = self.state
        self.stats = store.image_score_stats(s.project) if s.project is not None else {}
        self.datasets = {d.id: d.name for d in store.list_datasets(s.project)} if s.project is not None else {}
        self._paths = [str(s.image_file(r)) for r in s.images] if s.project is not None else []
        self._row_of_path = {p: i for i, p in enumerate(self._paths)}
        self.endResetModel()

    def row_total(self) -> int:
        return len(self._paths)

    def _sort_value(self, row: int, col: int):
        rec = self.state.images[row]
        st = self.stats.get(rec.id)
        if col == 0:
            return Path(self._paths[row]).name.lower()
        if col == 1:
            return IMAGE_STATUSES.index(rec.status)
        if col == 2:
            return st.count if st else 0
        if col == 5:
            return self.datasets.get(rec.dataset_id, "").lower()
        return None if st is None else (st.spread if col == 3 else st.margin)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row, col = index.row(), index.column()
        if not index.isValid() or row >= len(self.state.images):
            return None  # the state's list changes first; the model resets on imagesChanged
        rec = self.state.images[row]
        if role == ID_ROLE:
            return rec.id
        if role == SORT_ROLE:
            return self._sort_value(row, col)
        st = self.stats.get(rec.id)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return Path(self._paths[row]).name
            if col == 1:
                return rec.status
            if col == 2:
                return str(st.count) if st else ""
            if col == 5:
                return self.datasets.get(rec.dataset_id, "")
            value = None if st is None else (st.spread if col == 3 else st.margin)
            return "" if value is None else f"{value:.3f}"
        if role == Qt.ItemDataRole.DecorationRole:
            if col == 0:
                return self.thumbnails.get(self._paths[row]) or self.thumbnails.placeholder
            if col == 1:
                return self._status_icons.get(rec.status)
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return self._paths[row]
        if role == Qt.ItemDataRole.TextAlignmentRole and 2 <= col <= 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def row_of_image(self, image_id: int) -> int | None:
        return self.state.image_row(image_id)

    def _thumbnail_ready(self, path: str) -> None:
        row = self._row_of_path.get(path)
        if row is not None:
            ix = self.index(row, 0)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DecorationRole])


class ImageFilterProxy(MissingLastProxy):
    """Keeps rows of one review status (or all) whose name contains the filter text."""

    def __init__(self, parent=None) -> None:
        super().__init__(SORT_ROLE, parent)
        self.status: str | None = None
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(0)

    def set_status(self, status: str | None) -> None:
        self.status = status
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        model = self.sourceModel()
        if self.status is not None and model.state.images[row].status != self.status:
            return False
        return super().filterAcceptsRow(row, parent)


class ImageTable(QTableView):
    """The image table; Home and End go to the first and last image (not sideways to
    the first and last column, QTableView's own meaning)."""

    def moveCursor(self, action, modifiers):
        if action in (QAbstractItemView.CursorAction.MoveHome, QAbstractItemView.CursorAction.MoveEnd):
            modifiers = modifiers | Qt.KeyboardModifier.ControlModifier
            current = self.currentIndex()
            target = super().moveCursor(action, modifiers)
            return target.siblingAtColumn(max(current.column(), 0)) if target.isValid() else target
        return super().moveCursor(action, modifiers)


class ImageBrowser(QWidget):
    """Filter bar + image table; opens the image of the selected row."""

    orderChanged = pyqtSignal()

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.thumbnails = ThumbnailCache(self)
        self.model = ImageListModel(state, self.thumbnails)
        self.proxy = ImageFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.status_combo = QComboBox()
        self.status_combo.addItem("All", None)
        for st in IMAGE_STATUSES:
            self.status_combo.addItem(st.capitalize(), st)
        self.status_combo.setToolTip("Show images at one review status")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by name")
        self.search.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.view = ImageTable(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(THUMB_SIZE + 4)
        header = self.view.horizontalHeader()
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, IMAGE_COLUMN_WIDTH)
        header.setStretchLastSection(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setWordWrap(False)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.status_combo)
        bar.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)
        self._syncing = False

        self.status_combo.currentIndexChanged.connect(self._status_changed)
        self.search.textChanged.connect(self._search_changed)
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        self.proxy.layoutChanged.connect(self.orderChanged)
        state.imagesChanged.connect(self.refresh)
        state.imageChanged.connect(self._follow_state)

    def sizeHint(self) -> QSize:
        return QSize(480, 500)

    def refresh(self) -> None:
        """Re-read images and statistics (keeps the current image selected)."""
        self._syncing = True
        try:
            self.model.reset()
        finally:
            self._syncing = False
        # One dataset needs no column; two with the same file names need it to tell them apart.
        self.view.setColumnHidden(COLUMNS.index("Dataset"), len(self.model.datasets) < 2)
        self._follow_state()
        self._update_count()

    def _update_count(self) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        self.count_label.setText(f"{shown} of {total} images" if shown != total else f"{total} images")

    def _status_changed(self) -> None:
        self.proxy.set_status(self.status_combo.currentData())
        self._update_count()
        self.orderChanged.emit()

    def _search_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_count()
        self.orderChanged.emit()

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        image_id = self.proxy.data(current, ID_ROLE)
        if self.state.image is None or image_id != self.state.image.id:
            self.state.open_image(int(image_id))

    def _follow_state(self) -> None:
        image = self.state.image
        if image is None:
            return
        row = self.model.row_of_image(image.id)
        if row is None:
            return
        ix = self.proxy.mapFromSource(self.model.index(row, 0))
        if not ix.isValid():
            return
        self._syncing = True
        try:
            self.view.selectionModel().setCurrentIndex(
                ix, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.view.scrollTo(ix)
        finally:
            self._syncing = False

    def visible_order(self) -> list[int]:
        """Image ids in the order shown (filtered and sorted)."""
        return [int(self.proxy.data(self.proxy.index(r, 0), ID_ROLE)) for r in range(self.proxy.rowCount())]

    def sort_by(self, column: str, descending: bool = False) -> None:
        """Sort by a column name of COLUMNS."""
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.view.sortByColumn(COLUMNS.index(column), order)
