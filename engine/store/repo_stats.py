"""Per-image score statistics over the whole project, in two queries.

score spread: highest minus lowest candidate score of the image (all persons, all runs).
margin: best minus second-best score; a small margin means the scorer hardly prefers
its top candidate, so sorting by it ascending puts the scorer's most uncertain images
first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from engine.store.schema import Candidate, Person, SampleRun
from engine.store.tx import Db, transaction


@dataclass(frozen=True)
class ImageScoreStats:
    """count: candidates; best: highest score; spread, margin: None without two scored candidates."""

    count: int
    best: float | None
    spread: float | None
    margin: float | None


def image_score_stats(db: Db) -> dict[int, ImageScoreStats]:
    """ImageScoreStats by image id, for images with at least one candidate."""
    joined = (select(Person.image_id.label("image_id"), Candidate.score.label("score"))
              .join(SampleRun, SampleRun.person_id == Person.id)
              .join(Candidate, Candidate.run_id == SampleRun.id))
    sub = joined.subquery()
    totals = select(sub.c.image_id, func.count(), func.min(sub.c.score), func.max(sub.c.score)).group_by(sub.c.image_id)
    ranked = select(
        sub.c.image_id, sub.c.score,
        func.row_number().over(partition_by=sub.c.image_id, order_by=sub.c.score.desc()).label("r"),
    ).where(sub.c.score.is_not(None)).subquery()
    top2 = select(ranked.c.image_id, ranked.c.score).where(ranked.c.r <= 2).order_by(ranked.c.image_id, ranked.c.r)
    out: dict[int, ImageScoreStats] = {}
    with transaction(db) as session:
        best_two: dict[int, list[float]] = {}
        for image_id, score in session.execute(top2):
            best_two.setdefault(image_id, []).append(float(score))
        for image_id, count, lo, hi in session.execute(totals):
            two = best_two.get(image_id, [])
            out[image_id] = ImageScoreStats(
                count=int(count),
                best=None if hi is None else float(hi),
                spread=None if lo is None or count < 2 else float(hi - lo),
                margin=two[0] - two[1] if len(two) == 2 else None,
            )
    return out
