"""The 2D side of the workspace: a small toolbar, the image overlay view and its legend.

It follows ``AppState``: a new image shows its photo and persons, a new candidate set
recolours, a selection or visibility change redraws the shown meshes.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPixmap
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.people import other_people_best, person_at, person_color
from app.state import AppState
from app.views.image_overlay import ImageOverlayView
from app.views.mask_outline import MaskOutline
from app.widgets.score_legend import ScoreLegend


def color_icon(rgb: tuple[int, int, int], size: int = 12) -> QIcon:
    """A small square of one colour (a person's, in the person list)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*rgb))
    return QIcon(pixmap)


class ImagePane(QWidget):
    """Toolbar (person, fill/wire, keypoints, opacity, box, fit) + view + legend."""

    boxDrawn = pyqtSignal(float, float, float, float)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.view = ImageOverlayView(self)
        self.legend = ScoreLegend(self)

        self.person_combo = QComboBox()
        self.person_combo.setToolTip("Person in this photo (or click one on the photo)")
        self.person_combo.setMinimumContentsLength(10)
        self.all_people_check = QCheckBox("All people")
        self.all_people_check.setToolTip("Draw every person's best candidate at once, each in the person's colour "
                                         "(on the photo and in 3D)")
        self.wire_check = QCheckBox("Wireframe")
        self.wire_check.setToolTip("Draw meshes as wireframes instead of shaded fills (W)")
        self.keypoints_check = QCheckBox("Keypoints")
        self.keypoints_check.setToolTip("Show the person's 2D keypoints (K)")
        self.keypoints_check.setChecked(state.prefs.show_keypoints)
        self.mask_check = QCheckBox("Mask")
        self.mask_check.setToolTip("Outline the person's mask, as the pose detector found it")
        self.mask_outline = MaskOutline(self.view.scene())
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(10, 100)
        self.opacity_slider.setValue(int(self.view.opacity * 100))
        self.opacity_slider.setMaximumWidth(90)
        self.opacity_slider.setToolTip("Mesh opacity (of the shaded meshes over the photo)")
        self.box_button = QToolButton()
        self.box_button.setText("Pick person")
        self.box_button.setCheckable(True)
        self.box_button.setToolTip("Drag a box around a person to detect them (or Shift+drag)")
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Fit the photo in the view (F)")
        self.info = QLabel()
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.person_combo)  # its items read "Person 1", "Person 2", ...
        bar.addWidget(self.all_people_check)
        bar.addWidget(self.box_button)
        bar.addSpacing(8)
        bar.addWidget(self.wire_check)
        bar.addWidget(self.keypoints_check)
        bar.addWidget(self.mask_check)
        bar.addWidget(self.opacity_slider)  # its tooltip names it: the toolbar must not squeeze the 3D view
        bar.addStretch(1)
        bar.addWidget(self.fit_button)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(4, 0, 4, 2)
        bottom.addWidget(self.info, 1)
        bottom.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)

        self.view.set_mode(state.prefs.overlay_mode)
        self.wire_check.setChecked(state.prefs.overlay_mode == "wire")
        self.view.show_keypoints = state.prefs.show_keypoints

        self.person_combo.activated.connect(self._person_chosen)
        self.wire_check.toggled.connect(lambda on: self.view.set_mode("wire" if on else "fill"))
        self.keypoints_check.toggled.connect(self.view.set_show_keypoints)
        self.mask_check.toggled.connect(self.mask_outline.set_visible)
        self.opacity_slider.valueChanged.connect(lambda v: self.view.set_opacity(v / 100))
        self.box_button.toggled.connect(self.view.set_box_mode)
        self.fit_button.clicked.connect(self.view.fit)
        self.view.boxDrawn.connect(self._box_drawn)
        self.view.clicked.connect(self._clicked)
        self.all_people_check.toggled.connect(state.set_show_all_people)
        state.imageChanged.connect(self._image_changed)
        state.personChanged.connect(self._person_changed)
        state.candidatesChanged.connect(self._candidates_changed)
        state.colorsChanged.connect(self._colors_changed)
        state.selectionChanged.connect(self._shown_changed)
        state.visibilityChanged.connect(self._shown_changed)

    def _box_drawn(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.box_button.setChecked(False)
        self.boxDrawn.emit(x0, y0, x1, y1)

    def _image_changed(self) -> None:
        s = self.state
        if s.image is None:
            self.view.clear_photo()
            self.info.setText("")
            return
        if s.image_rgb is not None:
            self.view.set_photo(s.image_rgb)
        else:
            self.view.set_photo(None, (s.image.width or 640, s.image.height or 480))
        name = s.image_path.name if s.image_path else ""
        h, w = s.image_rgb.shape[:2] if s.image_rgb is not None else (s.image.height, s.image.width)
        self.info.setText(f"{name}  {w}×{h}" if s.image_rgb is not None else f"{name}  (cannot read the file)")

    def _person_changed(self) -> None:
        s = self.state
        self.person_combo.clear()
        for k, p in enumerate(s.persons):
            self.person_combo.addItem(color_icon(person_color(k)), f"Person {k + 1}", p.id)
        if not s.persons:
            self.person_combo.addItem("none")
        current = next((k for k, p in enumerate(s.persons) if s.person is not None and p.id == s.person.id), None)
        if current is not None:
            self.person_combo.setCurrentIndex(current)
        self.person_combo.setEnabled(len(s.persons) > 1)
        self.view.set_persons([p.box for p in s.persons], current)
        self.view.set_keypoints(None if s.person is None else s.person.keypoints)
        mask = None if s.person is None else s.person.mask
        self.mask_outline.set_mask(mask)
        self.mask_check.setEnabled(mask is not None)

    def _person_chosen(self, index: int) -> None:
        person_id = self.person_combo.itemData(index)
        if person_id is not None and (self.state.person is None or person_id != self.state.person.id):
            self.state.set_person(int(person_id))

    def _candidates_changed(self) -> None:
        s = self.state
        self.view.set_candidates(s.candidates, s.colors())
        self.legend.set_range(None if s.candidates is None else s.candidates.score_range())
        self._shown_changed()

    def _colors_changed(self) -> None:
        self.view.set_candidates(self.state.candidates, self.state.colors())

    def _shown_changed(self) -> None:
        self.view.set_shown(self.state.shown(), force=False)
        s = self.state
        others = other_people_best(s) if s.show_all_people else []
        self.view.set_others([(o.candidates, o.best, o.color) for o in others])

    def _clicked(self, x: float, y: float) -> None:
        """A click on a person (inside their box) makes them the current person."""
        person = person_at(self.state.persons, x, y)
        if person is not None and (self.state.person is None or person.id != self.state.person.id):
            self.state.set_person(person.id)
