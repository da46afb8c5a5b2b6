"""What the user is looking at: the project, image, person, candidates and selection.

The views and panels never talk to each other: they read this object and listen to its
signals, and change it through its methods. It holds no widgets; its logic is plain
Python over the engine's store, so it can be driven in tests without a window.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from app.candidate_set import BodyDecoder, CandidateSet
from app.colors import candidate_colors
from app.sampling import ModelCache
from app.settings import Preferences
from engine import store
from engine.errors import AdhmrError
from engine.image_io import load_image

log = logging.getLogger(__name__)

RECENT_SETS = 8
"""Candidate sets kept decoded (meshes and 2D drawings) for the persons seen last."""


class AppState(QObject):
    """The current project, image, person and candidates, with change signals."""

    projectChanged = pyqtSignal()
    imagesChanged = pyqtSignal()
    imageChanged = pyqtSignal()
    personChanged = pyqtSignal()
    candidatesChanged = pyqtSignal()
    selectionChanged = pyqtSignal()
    visibilityChanged = pyqtSignal()
    preferencesChanged = pyqtSignal()
    colorsChanged = pyqtSignal()
    message = pyqtSignal(str)

    def __init__(self, prefs: Preferences | None = None, models: ModelCache | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs or Preferences()
        self.models = models or ModelCache()
        self.project: store.Project | None = None
        self.images: list[store.ImageRecord] = []
        self._image_index: dict[int, int] = {}
        self._datasets: dict[int, store.DatasetRecord] = {}
        self.image: store.ImageRecord | None = None
        self.image_path: Path | None = None
        self.image_rgb: np.ndarray | None = None
        self.persons: list[store.PersonRecord] = []
        self.person: store.PersonRecord | None = None
        self.candidates: CandidateSet | None = None
        self.selected: tuple[int, ...] = ()
        self.visible: frozenset[int] = frozenset()
        self._decoder: BodyDecoder | None = None
        self._recent: OrderedDict[int, CandidateSet] = OrderedDict()
        self._colors = np.zeros((0, 3), np.uint8)
        self._colors_of: CandidateSet | None = None
        self.pair_colors: dict[int, tuple[int, int, int]] = {}
        self.show_all_people = False

    # --- project -------------------------------------------------------------------

    def set_project(self, project: store.Project | None) -> None:
        """Show another project (or none); the previous one is closed."""
        if self.project is not None and self.project is not project:
            self.project.close()
        self.project = project
        self._recent.clear()
        self._clear_image()
        self.refresh_images(emit=False)
        self.projectChanged.emit()
        self.imagesChanged.emit()
        self.imageChanged.emit()
        self.personChanged.emit()
        self.candidatesChanged.emit()

    def refresh_images(self, emit: bool = True) -> None:
        """Re-read the image list (after an import, or when statuses changed)."""
        if self.project is None:
            self.images, self._image_index, self._datasets = [], {}, {}
        else:
            self.images = store.list_images(self.project)
            self._image_index = {r.id: i for i, r in enumerate(self.images)}
            self._datasets = {d.id: d for d in store.list_datasets(self.project)}
        if emit:
            self.imagesChanged.emit()

    def image_row(self, image_id: int) -> int | None:
        """Position of an image in ``images`` (id order)."""
        return self._image_index.get(int(image_id))

    def image_record(self, image_id: int) -> store.ImageRecord | None:
        i = self.image_row(image_id)
        return None if i is None else self.images[i]

    def image_file(self, record: store.ImageRecord) -> Path:
        """The image file on disk (relative paths resolved against the dataset's source)."""
        dataset = self._datasets.get(record.dataset_id)
        return self.project.resolve(record.path, dataset.source_path if dataset else None)

    # --- image and person ------------------------------------------------------------

    def _clear_image(self) -> None:
        self.image = None
        self.image_path = None
        self.image_rgb = None
        self.persons = []
        self.person = None
        self.candidates = None
        self.selected = ()
        self.visible = frozenset()

    def open_image(self, image_id: int | None) -> bool:
        """Show an image (its first person and that person's candidates); False if unknown."""
        record = None if image_id is None or self.project is None else self.image_record(image_id)
        self._clear_image()
        if record is not None:
            self.image = record
            self.image_path = self.image_file(record)
            try:
                self.image_rgb = load_image(self.image_path)
            except AdhmrError as exc:
                self.message.emit(str(exc))
            self.persons = store.persons_of_image(self.project, record.id)
            self.person = self.persons[0] if self.persons else None
            self._load_candidates()
        self.imageChanged.emit()
        self.personChanged.emit()
        self.candidatesChanged.emit()
        self.selectionChanged.emit()
        self.visibilityChanged.emit()
        return record is not None

    def step_image(self, delta: int, order: list[int] | None = None) -> None:
        """Open the image ``delta`` steps away in ``order`` (image ids; default id order)."""
        ids = order if order is not None else [r.id for r in self.images]
        if not ids:
            return
        if self.image is None or self.image.id not in ids:
            target = ids[0] if delta >= 0 else ids[-1]
        else:
            target = ids[max(0, min(len(ids) - 1, ids.index(self.image.id) + delta))]
        if self.image is None or target != self.image.id:
            self.open_image(target)

    def reload_persons(self, select_person_id: int | None = None) -> None:
        """Re-read the current image's persons (after a detection added one)."""
        if self.image is None or self.project is None:
            return
        self.persons = store.persons_of_image(self.project, self.image.id)
        wanted = select_person_id if select_person_id is not None else (self.person.id if self.person else None)
        self.set_person(wanted if any(p.id == wanted for p in self.persons) else
                        (self.persons[0].id if self.persons else None))

    def set_person(self, person_id: int | None) -> None:
        self.person = next((p for p in self.persons if p.id == person_id), None)
        self._load_candidates()
        self.personChanged.emit()
        self.candidatesChanged.emit()
        self.selectionChanged.emit()
        self.visibilityChanged.emit()

    # --- candidates ------------------------------------------------------------------

    def decoder(self) -> BodyDecoder:
        """The body decoder for the body model in the preferences (built on first use)."""
        if self._decoder is None:
            self._decoder = BodyDecoder(self.models.body(self.prefs))
        return self._decoder

    def set_preferences(self, prefs: Preferences) -> None:
        body_changed = (prefs.body_model, prefs.device) != (self.prefs.body_model, self.prefs.device)
        self.prefs = prefs
        if body_changed:
            self.models.clear()
            self._decoder = None
            self._recent.clear()
            self._load_candidates()
            self.candidatesChanged.emit()
            self.selectionChanged.emit()
            self.visibilityChanged.emit()
        self.preferencesChanged.emit()

    def _load_candidates(self) -> None:
        self.candidates = None
        self.selected = ()
        self.visible = frozenset()
        if self.person is None or self.project is None:
            return
        records = store.candidates_of_person(self.project, self.person.id)
        if not records:
            return
        cached = self._recent.pop(self.person.id, None)
        if cached is None or not cached.same_rows(records):
            try:
                decoder = self.decoder()
            except AdhmrError as exc:
                self.message.emit(str(exc))
                decoder = None
            cached = CandidateSet.from_records(records, self.person.box, decoder)
        self._recent[self.person.id] = cached
        while len(self._recent) > RECENT_SETS:
            self._recent.popitem(last=False)
        self._adopt(cached)

    def forget_decoded(self) -> None:
        """Drop the decoded candidate sets kept for recent persons."""
        self._recent.clear()

    def _adopt(self, cset: CandidateSet) -> None:
        self.candidates = cset
        ranking = cset.ranking()
        shown = [int(i) for i in ranking[: self.prefs.display_count]]
        self.visible = frozenset(shown)
        self.selected = (shown[0],) if shown else ()
        cset.ensure_decoded(shown)  # one batch for both views

    def candidate_set_of(self, person: store.PersonRecord) -> CandidateSet | None:
        """The candidates of a person of the open photo (the current one's set, or one
        decoded and kept like it); None without candidates."""
        if self.person is not None and person.id == self.person.id:
            return self.candidates
        if self.project is None:
            return None
        records = store.candidates_of_person(self.project, person.id)
        if not records:
            return None
        cached = self._recent.get(person.id)
        if cached is None or not cached.same_rows(records):
            try:
                decoder = self.decoder()
            except AdhmrError as exc:
                self.message.emit(str(exc))
                return None
            cached = CandidateSet.from_records(records, person.box, decoder)
            self._recent[person.id] = cached
        return cached

    def set_show_all_people(self, on: bool) -> None:
        """Draw every person's best candidate (in the person's colour) beside the current
        person's candidates, on the photo and in 3D."""
        if bool(on) != self.show_all_people:
            self.show_all_people = bool(on)
            self.visibilityChanged.emit()

    def reload_candidates(self) -> None:
        """Re-read the person's candidates from the store (after a sampling run)."""
        self._load_candidates()
        self.candidatesChanged.emit()
        self.selectionChanged.emit()
        self.visibilityChanged.emit()

    def select(self, indices) -> None:
        """Select candidates by index in the set; selected ones become visible too."""
        sel = tuple(dict.fromkeys(int(i) for i in indices))
        if sel == self.selected:
            return
        self.selected = sel
        if not set(sel) <= self.visible:
            self.visible = self.visible | set(sel)
            self.visibilityChanged.emit()
        self.selectionChanged.emit()

    def set_visible(self, index: int, visible: bool) -> None:
        index = int(index)
        if (index in self.visible) == visible:
            return
        self.visible = self.visible | {index} if visible else self.visible - {index}
        self.visibilityChanged.emit()

    def toggle_rank(self, rank: int) -> None:
        """Show or hide the candidate ranked ``rank`` (1 = best)."""
        if self.candidates is None or not 1 <= rank <= len(self.candidates):
            return
        index = int(self.candidates.ranking()[rank - 1])
        self.set_visible(index, index not in self.visible)

    def colors(self) -> np.ndarray:
        """(N, 3) uint8 colour of each candidate (by score, else by rank)."""
        if self.candidates is None:
            return np.zeros((0, 3), np.uint8)
        if self._colors_of is not self.candidates:
            self._colors = candidate_colors(self.candidates.scores, self.candidates.ranks())
            self._colors_of = self.candidates
        if not self.pair_colors:
            return self._colors
        colors = self._colors.copy()
        for k, candidate_id in enumerate(self.candidates.ids):
            colors[k] = self.pair_colors.get(int(candidate_id), colors[k])
        return colors

    def set_pair_colors(self, colors: dict[int, tuple[int, int, int]]) -> None:
        """Draw these candidates (by id) in a fixed RGB colour instead of their score's: the
        Pairs panel's A and B while it shows a pair. {} goes back to score colours."""
        if colors == self.pair_colors:
            return
        self.pair_colors = dict(colors)
        self.colorsChanged.emit()

    def placeholder(self) -> CandidateSet | None:
        """The average body standing in the person's box (or mid-photo), for the 3D view
        while the person has no candidates; None without an image or body model."""
        if self.image is None:
            return None
        if self.person is not None:
            box = self.person.box
        else:
            h, w = self.image_rgb.shape[:2] if self.image_rgb is not None else (self.image.height or 480, self.image.width or 640)
            box = (0.35 * w, 0.1 * h, 0.65 * w, 0.9 * h)
        try:
            return CandidateSet.placeholder(box, self.decoder())
        except AdhmrError as exc:
            self.message.emit(str(exc))
            return None

    def shown(self) -> list[int]:
        """Indices drawn in the image view: selected and visible, in selection order."""
        return [i for i in self.selected if i in self.visible]
