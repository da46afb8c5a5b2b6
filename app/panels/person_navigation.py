"""Where the next person with candidates is: later in this photo, else in the next sampled
photo of the project (in the image list's order). The Pairs panel moves on with it when a
person's queue ends."""

from __future__ import annotations

from app.state import AppState
from engine import store


def open_next_person_with_candidates(state: AppState) -> bool:
    """Make the next person with stored candidates the current one (opening their image).
    False, changing nothing, when there is none."""
    s = state
    if s.project is None or s.image is None:
        return False
    ids = [p.id for p in s.persons]
    k = ids.index(s.person.id) if s.person is not None and s.person.id in ids else -1
    for person_id in ids[k + 1:]:
        if store.candidates_of_person(s.project, person_id):
            s.set_person(person_id)
            return True
    order = [r.id for r in s.images]
    later = order[order.index(s.image.id) + 1:] if s.image.id in order else []
    for image_id in later:
        if s.images[s.image_row(image_id)].status == "unsampled":
            continue
        for person in store.persons_of_image(s.project, image_id):
            if store.candidates_of_person(s.project, person.id):
                s.open_image(image_id)
                if s.person is None or s.person.id != person.id:
                    s.set_person(person.id)
                return True
    return False
