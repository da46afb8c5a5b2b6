"""Pair curation: two candidates of a person side by side; the user says which is better.

Keyboard first (keys: ``app.panels.curation_view``). Every decision is committed to the
project's store at once (``engine.store.decide_pair`` / ``add_manual_pair``) and undo
goes through the store's history, so both survive a restart. The scorer's opinion
(scores, which it prefers, the margin) is shown, and can be hidden, but never decides.
Queue modes and what is stored: see ``app.panels.curation_queue``.
"""

from __future__ import annotations

import logging

from PyQt6.QtWidgets import QWidget

from app.panels import PanelSpec
from app.panels.curation_queue import (
    PairItem,
    agreement,
    decision_steps,
    free_item,
    propose_for_person,
    propose_project,
    scorer_queue,
)
from app.dialogs.pair_browser import PairBrowser
from app.panels.curation_view import CurationView, PlotterCloser
from app.panels.person_navigation import open_next_person_with_candidates
from app.state import AppState
from app.widgets.ab_compare import A_COLOR, B_COLOR
from app.widgets.decision_history import DecisionHistory
from engine import store
from engine.errors import AdhmrError

log = logging.getLogger(__name__)


class CurationPanel(CurationView):
    """The Pairs panel. ``items`` is the queue, ``index`` the pair shown (or None)."""

    def __init__(self, state: AppState, history: DecisionHistory, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.history = history
        self.items: list[PairItem] = []
        self.index: int | None = None
        self._note = ""
        state.projectChanged.connect(self.rebuild)
        state.imagesChanged.connect(self._images_changed)
        state.personChanged.connect(self._person_changed)
        state.candidatesChanged.connect(self._person_changed)
        state.selectionChanged.connect(self._selection_changed)
        history.changed.connect(self._history_changed)
        self._settings_changed()

    # --- queue -----------------------------------------------------------------------

    def set_mode(self, mode: str, scope: str | None = None) -> None:
        """Choose the queue ('proposed', 'uncertain', 'free') and scope ('person', 'project')."""
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))
        if scope is not None:
            self.scope_combo.setCurrentIndex(self.scope_combo.findData(scope))
        self._settings_changed()

    def _settings_changed(self) -> None:
        free = self.mode == "free"
        self.scope_combo.setEnabled(not free)
        for w in (self.pick_label, self.pick_a, self.pick_label_b, self.pick_b):
            w.setVisible(free)
        if free:
            self._fill_pickers()
        self.rebuild(fresh=True)
        self.setFocus()

    def _picked(self) -> None:
        if not self._busy:
            self.rebuild(fresh=True)
            self.setFocus()

    @property
    def current(self) -> PairItem | None:
        return None if self.index is None else self.items[self.index]

    def rebuild(self, keep: PairItem | None = None, fresh: bool = False) -> None:
        """Re-read the queue from the store; stay on ``keep`` (default: the current pair),
        or start at the first undecided pair when ``fresh`` (another queue)."""
        if self._busy:
            return
        if not self.visibility.on_screen:
            # Building a queue may store proposals and selects in the main views: only
            # for a panel the user looks at.
            self._stale = True
            return
        self._stale = False
        keep = None if fresh else keep if keep is not None else self.current
        self.items, note = self._build()
        self.index = None
        if self.items:
            self.index = self._find(keep) if keep is not None else None
            if self.index is None:
                self.index = self._next_open(-1)
            if self.index is None and self.mode == "free":
                self.index = 0  # two picked candidates show even when already decided
        self._note = note
        self._show_current()

    def _build(self) -> tuple[list[PairItem], str]:
        """The queue of the current mode and scope, and a note for the user."""
        s = self.state
        self.sample_button.hide()
        if s.project is None:
            return [], ""
        if self.mode == "free":
            ia, ib = self.pick_a.currentData(), self.pick_b.currentData()
            if s.person is None or s.candidates is None or ia is None or ib is None:
                return [], "Free pick: this person has no candidates yet (sample with Ctrl+R)."
            if ia == ib:
                return [], "Free pick: choose two different candidates as A and B."
            a, b = int(s.candidates.ids[ia]), int(s.candidates.ids[ib])
            if a < 0 or b < 0:
                return [], "These candidates are not stored yet."
            return [free_item(s.project, s.person.id, a, b)], ""
        person_id = None
        note = ""
        if self.scope == "person":
            if s.person is None:
                return [], "No person selected."
            person_id = s.person.id
            note = propose_for_person(s.project, s.person.id, s.candidates)
        items = scorer_queue(s.project, self.mode, person_id)
        if not items and self.scope == "project":
            added, people = propose_project(s.project)
            if added:
                items = scorer_queue(s.project, self.mode, None)
                note = (f"Proposed {added} pairs for {people} {'person' if people == 1 else 'people'} "
                        "from their candidates' scores (top against bottom of each ranking).")
        if not items and self.scope == "project":
            self.sample_button.show()  # what to run first, one click away
        if not items and not note:
            note = ("No scorer pairs here: sample this person with a scorer (Ctrl+R), run a pairs job, "
                    "or use Free pick." if self.scope == "person" else
                    "Nothing to pair yet: no person has scored candidates. Sample some (Ctrl+R on a photo, "
                    "or Sample a dataset… above), then come back.")
        return items, note

    def _find(self, item: PairItem) -> int | None:
        for k, other in enumerate(self.items):
            same_pair = item.pair is not None and other.pair is not None and other.pair.id == item.pair.id
            if same_pair or {other.a, other.b} == {item.a, item.b} and other.person_id == item.person_id:
                return k
        return None

    def _next_open(self, start: int) -> int | None:
        """The first undecided pair after ``start`` (wrapping), else the pair at ``start``."""
        n = len(self.items)
        for step in range(1, n + 1):
            k = (start + step) % n
            if not self.items[k].decided:
                return k
        return None if start < 0 else start

    # --- showing ---------------------------------------------------------------------

    def _show_current(self) -> None:
        item = self.current
        self._update_counters()
        enabled = item is not None
        for name in ("a", "b", "both_bad", "skip"):
            self.buttons[name].setEnabled(enabled)
        self.buttons["prev"].setEnabled(len(self.items) > 1)
        self.buttons["next"].setEnabled(len(self.items) > 1)
        self.buttons["undo"].setEnabled(self.state.project is not None)
        self.buttons["redo"].setEnabled(self.state.project is not None)
        if item is None:
            self.compare.clear()
            self.state.set_pair_colors({})
            self.opinion.setText(self._note or "Nothing to curate.")
            return
        if not self._go_to_person(item.person_id):
            self.compare.clear()
            self.opinion.setText(f"Person {item.person_id} is gone from the project.")
            return
        s = self.state
        cset = s.candidates
        index = {int(c): k for k, c in enumerate(cset.ids)} if cset is not None else {}
        if item.a not in index or item.b not in index:
            self.compare.clear()
            self.opinion.setText("The candidates of this pair are no longer stored.")
            return
        ia, ib = index[item.a], index[item.b]
        rgb = s.image_rgb
        size = None if rgb is not None else (s.image.width or 640, s.image.height or 480)
        self.compare.set_photo(rgb, size, key=(s.image.id if s.image else None, id(rgb)))
        ranks = cset.ranks()
        s.set_pair_colors({item.a: A_COLOR, item.b: B_COLOR})
        self.compare.show_pair(cset, ia, cset, ib, box=s.person.box if s.person else None,
                               info_a=self._side_info(cset, ia, ranks), info_b=self._side_info(cset, ib, ranks))
        note, self._note = self._note, ""  # said once, with the first pair shown
        self.opinion.setText(" ".join(filter(None, (note, self._opinion_text(item, cset.scores[ia], cset.scores[ib])))))
        if self.mode != "free":
            self._busy = True
            try:
                s.select([ia, ib])
            finally:
                self._busy = False

    def _go_to_person(self, person_id: int) -> bool:
        """Make the pair's person the current one (opening its image) if it is not."""
        s = self.state
        if s.person is not None and s.person.id == person_id:
            return True
        try:
            person = store.get_person(s.project, person_id)
        except AdhmrError:
            return False
        self._busy = True
        try:
            if s.image is None or s.image.id != person.image_id:
                s.open_image(person.image_id)
            if s.person is None or s.person.id != person_id:
                s.set_person(person_id)
        finally:
            self._busy = False
        return s.person is not None and s.person.id == person_id

    def _update_counters(self) -> None:
        s = self.state
        if s.project is None:
            self.counters.setText("")
            return
        person_id = s.person.id if (self.scope == "person" or self.mode == "free") and s.person else None
        if self.mode != "free" and self.scope == "person" and s.person is None:
            person_id = -1
        agree = agreement(s.project, person_id).text()
        if self.mode == "free":
            manual = store.list_pairs(s.project, person_id=person_id, source="manual") if person_id else []
            self.counters.setText(f"{len(manual)} pairs picked by hand for this person · {agree}")
            return
        done = sum(1 for it in self.items if it.decided)
        position = f"pair {self.index + 1} of {len(self.items)} · " if self.index is not None else ""
        self.counters.setText(f"{position}{done} done · {len(self.items) - done} left · {agree}")

    # --- actions ---------------------------------------------------------------------

    def decide(self, choice: str) -> bool:
        """Record ``choice`` ('a', 'b', 'both_bad', 'skip') on the current pair; True if stored."""
        item = self.current
        if item is None or self.state.project is None:
            return False
        try:
            steps = decision_steps(self.state.project, item, choice)
            if steps:
                self.history.do(*steps)
        except AdhmrError as exc:
            self.opinion.setText(f"Not stored: {exc}")
            return False
        self.rebuild(keep=item)
        if self.mode != "free" and self.index is not None:
            self.index = self._next_open(self.index)
            self._show_current()
        elif not steps:
            self.opinion.setText("Skipped (nothing stored for a pair you had not decided).")
        return bool(steps)

    def move(self, delta: int) -> None:
        """Show the next (1) or previous (-1) pair of the queue, decided or not. Next from
        the last pair of a person's queue goes on to the next person with candidates."""
        at_end = not self.items or self.index == len(self.items) - 1
        if delta > 0 and at_end and self.mode != "free" and self.scope == "person":
            if not open_next_person_with_candidates(self.state):
                self.opinion.setText("That was the last person with candidates in the project.")
            return
        if not self.items:
            return
        self.index = 0 if self.index is None else (self.index + delta) % len(self.items)
        self._show_current()

    def open_browser(self) -> PairBrowser:
        """The decided-pairs window (one per panel, re-read each time it opens)."""
        if self.browser is None:
            self.browser = PairBrowser(self.state, self)
            self.browser.pairChosen.connect(self.show_pair)
        self.browser.refresh()
        self.browser.show()
        self.browser.raise_()
        return self.browser

    def show_pair(self, pair_id: int) -> bool:
        """Show a stored pair: a scorer pair in the whole project's queue, a hand-made one
        as a free pick of its two candidates. False if it is gone."""
        s = self.state
        pair = next((p for p in store.list_pairs(s.project) if p.id == pair_id), None) if s.project else None
        if pair is None or not self._go_to_person(pair.person_id):
            self.opinion.setText(f"Pair #{pair_id} is no longer in the project.")
            return False
        if pair.source == "auto":
            self.set_mode("proposed" if self.mode == "free" else self.mode, "project")
            self.index = next((k for k, it in enumerate(self.items) if it.pair and it.pair.id == pair_id), self.index)
        else:
            self.set_mode("free")
            index = {int(c): k for k, c in enumerate(s.candidates.ids)}
            self._busy = True
            try:
                for combo, candidate in ((self.pick_a, pair.winner_id), (self.pick_b, pair.loser_id)):
                    combo.setCurrentIndex(combo.findData(index.get(candidate)))
            finally:
                self._busy = False
            self.rebuild(fresh=True)
        self._show_current()
        return self.current is not None and self.current.pair is not None and self.current.pair.id == pair_id

    def undo(self) -> None:
        undone = self.history.undo()
        if not undone:
            self.opinion.setText("Nothing to undo.")

    def redo(self) -> None:
        redone = self.history.redo()
        if not redone:
            self.opinion.setText("Nothing to redo.")

    def _history_changed(self, kind: str, actions) -> None:
        if kind == "do":
            return  # decide() refreshes and moves on itself
        target = None
        pair_ids = {a.row_id for a in actions if a.table_name == "pairs"}
        if pair_ids and self.mode != "free":
            self.rebuild()
            target = next((k for k, it in enumerate(self.items) if it.pair and it.pair.id in pair_ids), None)
            if target is None:
                # An undone hand-made pair (a flip) is gone: show the scorer's pair it reversed.
                rows = [a.new_value for a in actions if a.table_name == "pairs" and a.op == "insert"]
                keys = {frozenset((r["winner_id"], r["loser_id"])) for r in rows if r}
                target = next((k for k, it in enumerate(self.items) if frozenset((it.a, it.b)) in keys), None)
            if target is not None:
                # Undo shows the pair again; redo replays the decision and moves on, as deciding does.
                self.index = target if kind == "undo" else self._next_open(target)
                self._show_current()
        else:
            self.rebuild()
        if any(a.table_name != "pairs" for a in actions):
            self.opinion.setText(f"{kind.capitalize()}: a cleaning override (one history for the whole project).")

    def _images_changed(self) -> None:
        """Statuses changed (a pairs job ended, a photo was sampled): the queue may have
        grown. Re-read it without taking the window to another image."""
        if self._busy or not self.visibility.on_screen:
            self._stale = self._stale or not self._busy
            return
        current = self.current
        self.items, self._note = self._build()
        self.index = self._find(current) if current is not None else None
        if self.index is None and self.items:
            self.index = self._next_open(-1)
        item = self.current
        person = self.state.person
        if item is None or (person is not None and item.person_id == person.id):
            self._show_current()
        else:
            self._update_counters()

    def _person_changed(self) -> None:
        if self.mode == "free":
            self._fill_pickers()
        if self._busy or (self.mode != "free" and self.scope == "project"):
            return
        self.rebuild()

    def _selection_changed(self) -> None:
        s = self.state
        if self._busy or self.mode != "free" or len(s.selected) < 2:
            return
        self._busy = True
        try:
            self.pick_a.setCurrentIndex(self.pick_a.findData(s.selected[0]))
            self.pick_b.setCurrentIndex(self.pick_b.findData(s.selected[1]))
        finally:
            self._busy = False
        self.rebuild(fresh=True)


def make_panel(state: AppState, window) -> CurationPanel:
    panel = CurationPanel(state, DecisionHistory.of(window))
    window.installEventFilter(PlotterCloser(panel.compare, window))
    return panel


PANEL = PanelSpec(name="curation", title="Pairs", factory=make_panel, area="bottom", shortcut="Ctrl+Shift+P")
