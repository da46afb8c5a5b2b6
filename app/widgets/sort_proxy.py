"""A sort proxy that reads a sort role and keeps missing values (None) at the bottom."""

from __future__ import annotations

from PyQt6.QtCore import QModelIndex, QSortFilterProxyModel, Qt


class MissingLastProxy(QSortFilterProxyModel):
    """Sorts by ``sort_role`` values; rows whose value is None stay last in either order."""

    def __init__(self, sort_role: int, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(sort_role)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        a = left.data(self.sortRole())
        b = right.data(self.sortRole())
        if a is None or b is None:
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            if a is None and b is None:
                return False
            return (b is None) if ascending else (a is None)
        return a < b
