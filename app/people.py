"""Several people in one photo: their colours, each one's best candidate, the person under
a click, and sampling them all in one task. No widgets here; the image pane, the 3D view
and the window's actions use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.candidate_set import CandidateSet
from engine import store
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

PERSON_COLORS = ((80, 180, 90), (210, 70, 70), (150, 100, 200), (40, 190, 200), (230, 120, 190),
                 (190, 190, 50), (140, 90, 70), (66, 135, 245), (245, 145, 40), (160, 160, 160))
"""One colour per person of a photo, in the photo's order (green first: blue and orange
are the Pairs panel's A and B)."""


def person_color(k: int) -> tuple[int, int, int]:
    """RGB of the photo's k-th person (0-based)."""
    return PERSON_COLORS[k % len(PERSON_COLORS)]


@dataclass(frozen=True, eq=False)
class PersonBest:
    """A person of the photo with candidates: its place k (0-based), record, candidate set
    and the index of its best candidate in it (by score, else the first)."""

    k: int
    person: store.PersonRecord
    candidates: CandidateSet
    best: int

    @property
    def color(self) -> tuple[int, int, int]:
        return person_color(self.k)


def other_people_best(state) -> list[PersonBest]:
    """Every person of the open photo but the current one that has candidates."""
    out = []
    for k, person in enumerate(state.persons):
        if state.person is not None and person.id == state.person.id:
            continue
        cset = state.candidate_set_of(person)
        if cset is not None and len(cset):
            out.append(PersonBest(k, person, cset, int(cset.ranking()[0])))
    return out


def person_at(persons: list[store.PersonRecord], x: float, y: float) -> store.PersonRecord | None:
    """The person whose box holds image point (x, y) px; the smallest box where several do."""
    inside = [p for p in persons if p.box[0] <= x <= p.box[2] and p.box[1] <= y <= p.box[3]]
    return min(inside, key=lambda p: (p.box[2] - p.box[0]) * (p.box[3] - p.box[1]), default=None)


def sample_people(project: store.Project, image_path: Path, persons: list[store.PersonRecord], prefs, models,
                  progress: ProgressFn = no_progress, should_cancel: CancelFn = never_cancel) -> list:
    """Sample (and score) every person of a photo in turn, as Sample does for one; the
    outcomes (``app.sampling.SampleOutcome``), one per person. When the preferences start
    from the fit, all the people are fitted first, in one batch."""
    from app.sampling import load_models, sample_person
    from engine.projects.sampling import person_fits

    if prefs.fit_start > 0:
        progress(ProgressEvent(0.0, f"fitting {len(persons)} people"))
    loaded = load_models(project, prefs, models)
    starts = person_fits(persons, loaded.model, loaded.body, prefs.sample_settings(0))
    outcomes = []
    for n, person in enumerate(persons):
        check_cancel(should_cancel)

        def report(e: ProgressEvent, n=n) -> None:
            progress(ProgressEvent((n + e.fraction) / len(persons), f"{n + 1}/{len(persons)} people: {e.message}"))

        outcomes.append(sample_person(project, image_path, person, prefs, models, report, should_cancel,
                                      start=starts[n]))
    return outcomes


def sample_all(window) -> bool:
    """Image ▸ Sample All People: every person of the open photo, one background task;
    afterwards all of them are drawn (All people on)."""
    s = window.state
    if s.project is None or s.image is None or not s.persons:
        window.show_error("Open a photo with people first (Ctrl+D finds them).")
        return False
    image_id, persons = s.image.id, list(s.persons)

    def done(outcomes) -> None:
        s.refresh_images()
        if s.image is None or s.image.id != image_id:
            return
        s.reload_persons()
        window.image_pane.all_people_check.setChecked(True)
        window.show_message(f"Sampled {len(outcomes)} people ({s.prefs.sample_count} candidates each)")

    task = window.tasks.start(f"Sampling {len(persons)} people", sample_people, s.project, s.image_path, persons,
                              s.prefs, s.models, on_done=done, on_error=window.show_error)
    return task is not None
