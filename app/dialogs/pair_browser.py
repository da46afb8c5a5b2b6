"""The decided pairs of a project: filter by decision, by who decided, by where the pair
came from (hand-made or scorer-proposed) and by image; who and when for each; a double
click (or Enter, or *Show*) shows the pair in the Pairs panel (``pairChosen``)."""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import store

DECISIONS = {"accepted": "accepted", "rejected": "flipped / rejected", "both_bad": "both bad", "skipped": "skipped"}
"""Stored status -> the words the browser shows (a rejected scorer pair: the user preferred its loser)."""
SOURCES = {"auto": "scorer-proposed", "manual": "hand-made"}
COLUMNS = ("Pair", "Image", "Person", "Decision", "Source", "Who", "When (UTC)")
ANY = "any"


class PairBrowser(QDialog):
    """A window over the project's decided pairs (every status but 'proposed')."""

    pairChosen = pyqtSignal(int)

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("Decided pairs")
        self.resize(820, 420)
        self.decision_combo = self._combo({ANY: "any decision", **DECISIONS})
        self.source_combo = self._combo({ANY: "hand-made or proposed", **SOURCES})
        self.who_combo = self._combo({ANY: "anyone"})
        self.image_filter = QLineEdit()
        self.image_filter.setPlaceholderText("Image name contains…")
        self.image_filter.setClearButtonEnabled(True)
        self.count_label = QLabel()
        filters = QHBoxLayout()
        for w in (QLabel("Show"), self.decision_combo, self.source_combo, QLabel("by"), self.who_combo,
                  self.image_filter):
            filters.addWidget(w)
        filters.addStretch(1)
        filters.addWidget(self.count_label)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.show_button = QPushButton("Show in the Pairs panel")
        self.show_button.setDefault(True)
        refresh = QPushButton("Refresh")
        buttons = QHBoxLayout()
        buttons.addWidget(refresh)
        buttons.addStretch(1)
        buttons.addWidget(self.show_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._rows: list[tuple[store.PairRecord, str]] = []
        for combo in (self.decision_combo, self.source_combo, self.who_combo):
            combo.activated.connect(lambda _i: self._fill())
        self.image_filter.textChanged.connect(lambda _t: self._fill())
        self.table.itemActivated.connect(lambda _item: self.choose())
        self.show_button.clicked.connect(self.choose)
        refresh.clicked.connect(self.refresh)
        self.refresh()

    @staticmethod
    def _combo(items: dict[str, str]) -> QComboBox:
        combo = QComboBox()
        for key, text in items.items():
            combo.addItem(text, key)
        return combo

    def refresh(self) -> None:
        """Re-read the decided pairs from the store."""
        project = self.state.project
        pairs = [] if project is None else [p for p in store.list_pairs(project) if p.status != "proposed"]
        images: dict[int, str] = {}
        self._rows = []
        for pair in pairs:
            if pair.person_id not in images:
                record = self.state.image_record(store.get_person(project, pair.person_id).image_id)
                images[pair.person_id] = record.path if record is not None else "?"
            self._rows.append((pair, images[pair.person_id]))
        who = self.who_combo.currentData()
        self.who_combo.clear()
        self.who_combo.addItem("anyone", ANY)
        for name in sorted({p.who or "unknown" for p, _ in self._rows}):
            self.who_combo.addItem(name, name)
        self.who_combo.setCurrentIndex(max(self.who_combo.findData(who), 0))
        self._fill()

    def visible_pairs(self) -> list[int]:
        """Pair ids of the rows shown, top to bottom."""
        return [int(self.table.item(r, 0).data(Qt.ItemDataRole.DisplayRole)) for r in range(self.table.rowCount())]

    def _fill(self) -> None:
        decision, source = self.decision_combo.currentData(), self.source_combo.currentData()
        who, text = self.who_combo.currentData(), self.image_filter.text().strip().lower()
        rows = [(p, image) for p, image in self._rows
                if decision in (ANY, p.status) and source in (ANY, p.source)
                and who in (ANY, p.who or "unknown") and text in image.lower()]
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, (p, image) in enumerate(rows):
            when = p.decided_at.strftime("%Y-%m-%d %H:%M:%S") if p.decided_at else ""
            pair_item = QTableWidgetItem()
            pair_item.setData(Qt.ItemDataRole.DisplayRole, p.id)
            cells = [pair_item] + [QTableWidgetItem(v) for v in (
                image, f"#{p.person_id}", DECISIONS.get(p.status, p.status), SOURCES.get(p.source, p.source),
                p.who or "unknown", when)]
            for c, cell in enumerate(cells):
                self.table.setItem(r, c, cell)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.count_label.setText(f"{len(rows)} of {len(self._rows)} decided pairs")
        self.show_button.setEnabled(bool(rows))
        if rows:
            self.table.selectRow(0)

    def choose(self) -> None:
        """Show the selected pair in the Pairs panel."""
        row = self.table.currentRow()
        if row >= 0:
            self.pairChosen.emit(int(self.table.item(row, 0).data(Qt.ItemDataRole.DisplayRole)))
