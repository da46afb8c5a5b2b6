"""What the window shows with no project open: new, open, demo, a photo, recent projects."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class StartPage(QWidget):
    """Buttons for the ways in, and the recent projects list."""

    newRequested = pyqtSignal()
    openRequested = pyqtSignal()
    demoRequested = pyqtSignal()
    photoRequested = pyqtSignal()
    recentChosen = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("ADHMR Studio")
        font = QFont(title.font())
        font.setPointSize(font.pointSize() + 10)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("Sample candidate body meshes, compare them in 2D and 3D with the HMR-Scorer,\n"
                          "build preference pairs and align the diffusion model with DPO.")
        subtitle.setStyleSheet("color: #5a5a5a")
        self.new_button = QPushButton("New project…")
        self.new_button.setToolTip("Create an empty project file (Ctrl+N)")
        self.open_button = QPushButton("Open project…")
        self.open_button.setToolTip("Open an existing project file (Ctrl+O)")
        self.demo_button = QPushButton("Open demo project")
        self.demo_button.setToolTip("A small ready-made project to try the app")
        self.photo_button = QPushButton("Look at a photo…")
        self.photo_button.setToolTip("Open one photo in a scratch project: keypoints and the body in 3D")
        for b in (self.new_button, self.open_button, self.demo_button, self.photo_button):
            b.setMinimumHeight(34)
        buttons = QGridLayout()
        buttons.addWidget(self.new_button, 0, 0)
        buttons.addWidget(self.open_button, 0, 1)
        buttons.addWidget(self.demo_button, 1, 0)
        buttons.addWidget(self.photo_button, 1, 1)
        self.recent = QListWidget()
        self.recent.setMaximumHeight(220)
        self.recent_label = QLabel("Recent projects")
        hint = QLabel("Drop a project file, photos, a folder or an annotation file (.npz, .json) on the window.")
        hint.setStyleSheet("color: #5a5a5a")
        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addSpacing(18)
        column.addLayout(buttons)
        column.addSpacing(18)
        column.addWidget(self.recent_label)
        column.addWidget(self.recent)
        column.addWidget(hint)
        box = QWidget()
        box.setLayout(column)
        box.setMaximumWidth(640)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

        self.new_button.clicked.connect(self.newRequested)
        self.open_button.clicked.connect(self.openRequested)
        self.demo_button.clicked.connect(self.demoRequested)
        self.photo_button.clicked.connect(self.photoRequested)
        self.recent.itemActivated.connect(lambda item: self.recentChosen.emit(item.data(Qt.ItemDataRole.UserRole)))

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            item = QListWidgetItem(f"{Path(p).name}    {Path(p).parent}")
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(p)
            if not Path(p).exists():
                item.setForeground(Qt.GlobalColor.gray)
                item.setToolTip(f"{p} (missing)")
            self.recent.addItem(item)
        self.recent_label.setVisible(bool(paths))
        self.recent.setVisible(bool(paths))
