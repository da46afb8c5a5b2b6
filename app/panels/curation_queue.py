"""What the curation panel shows and what a key press stores (no Qt here).

A queue is a list of ``PairItem``: two candidates of one person shown as A (left) and B
(right). Modes:

* ``proposed``: the scorer's pairs (the store's auto pairs) to confirm or flip, in the
  order they were proposed; a person with scored candidates and no auto pairs gets some
  on the fly (``propose_pairs``: top against bottom of the ranking, with a margin),
  stored as auto pairs just as the ``pairs`` job would store them;
* ``uncertain``: the same pairs, the ones the scorer is least sure of first: the smallest
  gap in log-odds between the two candidates' current scores (the scale proposals use);
* ``free``: any two candidates the user picked in the candidate table.

Which side the scorer's winner is shown on alternates with the pair id, so the user's
eye is not trained to one side. ``decision_steps`` turns a choice into store calls; every
call is one committed, undoable action (see ``app.widgets.decision_history``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import store

MODES = {"proposed": "Scorer's pairs", "uncertain": "Least sure first", "free": "Free pick"}
SCOPES = {"person": "This person", "project": "Whole project"}
CHOICES = ("a", "b", "both_bad", "skip")

Step = Callable[[store.Project, str | None], Any]


@dataclass(frozen=True)
class PairItem:
    """Two candidates of a person, as shown: ``a`` left, ``b`` right (candidate ids).

    pair: the stored pair the item stands for (None for a free pick not stored yet).
    """

    person_id: int
    a: int
    b: int
    pair: store.PairRecord | None = None

    @property
    def status(self) -> str | None:
        return None if self.pair is None else self.pair.status

    @property
    def decided(self) -> bool:
        return self.pair is not None and self.pair.status != "proposed"

    def side_of(self, candidate_id: int) -> str:
        return "a" if candidate_id == self.a else "b"

    def user_choice(self) -> str | None:
        """The stored decision as a choice on this item ('a', 'b', 'both_bad', 'skip') or
        None while undecided. A rejected scorer pair means the user preferred its loser."""
        p = self.pair
        if p is None or p.status == "proposed":
            return None
        if p.status == "accepted":
            return self.side_of(p.winner_id)
        if p.status == "rejected":
            return self.side_of(p.loser_id)
        return {"both_bad": "both_bad", "skipped": "skip"}[p.status]


def propose_pairs(
    candidate_ids: Sequence[int], run_ids: Sequence[int], scores: Sequence[float], person_id: int
) -> list[store.PairProposal]:
    """The pairs the 'pairs' job would propose for one person: per fully scored run,
    ``engine.projects.pairs.select_pairs`` (winners from the top of the ranking, losers
    from the bottom, at least ``PairConfig.min_margin`` apart).

    candidate_ids, run_ids, scores: (N,) each (NaN where a candidate has no score).
    """
    from engine.projects.pairs import PairConfig, select_pairs

    ids, runs = np.asarray(candidate_ids, np.int64), np.asarray(run_ids, np.int64)
    s = np.asarray(scores, np.float64)
    out = []
    for run in dict.fromkeys(runs.tolist()):
        members = np.nonzero(runs == run)[0]
        if len(members) < 2 or not np.isfinite(s[members]).all():
            continue
        k = min(PairConfig.top_k, len(members) // 2)
        config = PairConfig(num_candidates=len(members), top_k=k, bottom_k=k)
        for w, lo in select_pairs(s[members], config):
            out.append(store.PairProposal(person_id, int(ids[members[w]]), int(ids[members[lo]]),
                                          float(s[members[w]] - s[members[lo]])))
    return out


def propose_project(project: store.Project) -> tuple[int, int]:
    """Scorer pairs, as ``propose_pairs`` makes them, for every person with scored
    candidates and no scorer pairs yet: the whole project's queue without a pairs job.
    Returns (pairs added, people given pairs)."""
    from engine.projects.sampling import dataset_persons

    paired = {p.person_id for p in store.list_pairs(project, source="auto")}
    added = people = 0
    for dataset in store.list_datasets(project):
        for _path, person in dataset_persons(project, dataset.id):
            if person.id in paired:
                continue
            cands = store.candidates_of_person(project, person.id)
            scores = [np.nan if c.score is None else c.score for c in cands]
            proposals = propose_pairs([c.id for c in cands], [c.run_id for c in cands], scores, person.id)
            if proposals:
                added += store.add_auto_pairs(project, proposals)
                people += 1
    return added, people


def propose_for_person(project: store.Project, person_id: int, candidates: Any) -> str:
    """Store scorer pairs for one person whose shown candidates have scores and who has no
    scorer pairs yet; returns a note for the user ('' when nothing was to be done).
    candidates: the shown run (``ids``, ``run_ids``, ``scores``, ``has_scores``) or None."""
    if candidates is None or not candidates.has_scores:
        return ""
    if store.list_pairs(project, person_id=person_id, source="auto"):
        return ""
    stored = np.asarray(candidates.ids) >= 0
    proposals = propose_pairs(candidates.ids[stored], candidates.run_ids[stored], candidates.scores[stored], person_id)
    if not proposals:
        return "The scorer's scores are too close to propose pairs: use Free pick."
    added = store.add_auto_pairs(project, proposals)
    return f"Proposed {added} pairs from the scores (top against bottom of the ranking)."


def as_item(pair: store.PairRecord) -> PairItem:
    """A stored pair shown with its winner on the left for even ids, on the right for odd."""
    if pair.id % 2 == 0:
        return PairItem(pair.person_id, pair.winner_id, pair.loser_id, pair)
    return PairItem(pair.person_id, pair.loser_id, pair.winner_id, pair)


def scorer_queue(project: store.Project, mode: str, person_id: int | None) -> list[PairItem]:
    """The scorer's (auto) pairs of one person (or of the project when None), every status.

    mode 'proposed': in the order proposed; 'uncertain': smallest log-odds gap between the
    two candidates' scores first (pairs with an unscored candidate last).
    """
    pairs = store.list_pairs(project, person_id=person_id, source="auto")
    if mode == "uncertain":
        from engine.projects.pairs import log_odds

        scores = store.candidate_scores(project, [c for p in pairs for c in (p.winner_id, p.loser_id)])

        def doubt(p: store.PairRecord) -> tuple[bool, float, int]:
            a, b = scores.get(p.winner_id), scores.get(p.loser_id)
            if a is None or b is None:
                return True, 0.0, p.id
            return False, abs(float(log_odds(a) - log_odds(b))), p.id

        pairs.sort(key=doubt)
    return [as_item(p) for p in pairs]


def pairs_between(project: store.Project, person_id: int, a: int, b: int) -> list[store.PairRecord]:
    """Stored pairs of the two candidates, either way round."""
    return [p for p in store.list_pairs(project, person_id=person_id) if {p.winner_id, p.loser_id} == {a, b}]


def free_item(project: store.Project, person_id: int, a: int, b: int) -> PairItem:
    """Two picked candidates; the item carries their newest stored pair, if any."""
    existing = pairs_between(project, person_id, a, b)
    return PairItem(person_id, a, b, existing[-1] if existing else None)


def decision_steps(project: store.Project, item: PairItem, choice: str) -> list[Step]:
    """The store calls that record ``choice`` on ``item`` (empty when nothing changes).

    'a' / 'b': that candidate is better. Pairs the other way round that are proposed or
    accepted are rejected first (flipping a scorer's pair); the pair this way round is
    accepted, or added by hand. 'both_bad' / 'skip': every stored pair of the two gets
    that status (a pair is added by hand first when there is none; a free pick skipped
    without a stored pair changes nothing).
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be one of {CHOICES}, got {choice!r}")
    existing = pairs_between(project, item.person_id, item.a, item.b)
    steps: list[Step] = []

    def decide(pair_id: int, status: str) -> Step:
        return lambda p, who: store.decide_pair(p, pair_id, status, who)

    def add(winner: int, loser: int) -> Step:
        return lambda p, who: store.add_manual_pair(p, item.person_id, winner, loser, who)

    if choice in ("a", "b"):
        better, worse = (item.a, item.b) if choice == "a" else (item.b, item.a)
        for p in existing:
            if p.winner_id == worse and p.status in ("proposed", "accepted"):
                steps.append(decide(p.id, "rejected"))
        same_way = [p for p in existing if p.winner_id == better]
        if not same_way:
            steps.append(add(better, worse))
        steps += [decide(p.id, "accepted") for p in same_way if p.status != "accepted"]
        return steps
    status = "both_bad" if choice == "both_bad" else "skipped"
    if not existing:
        if choice == "skip":
            return []
        created: dict[str, int] = {}

        def add_then_mark(p: store.Project, who: str | None) -> Any:
            created["id"] = store.add_manual_pair(p, item.person_id, item.a, item.b, who)
            return created["id"]

        return [add_then_mark, lambda p, who: store.decide_pair(p, created["id"], status, who)]
    return [decide(p.id, status) for p in existing if p.status != status]


@dataclass(frozen=True)
class Agreement:
    """How often the user's choice matched the scorer's: ``agreed`` of ``judged`` pairs
    (both candidates scored, the user picked a winner)."""

    agreed: int
    judged: int

    @property
    def rate(self) -> float | None:
        return None if self.judged == 0 else self.agreed / self.judged

    def text(self) -> str:
        if self.rate is None:
            return "agreement with the scorer: –"
        return f"agreement with the scorer: {100 * self.rate:.0f}% of {self.judged}"


def agreement(project: store.Project, person_id: int | None = None) -> Agreement:
    """Agreement over decided pairs (of one person, or all). A pair judged twice (a
    flipped scorer pair and its reversed hand-made pair) counts once."""
    decided = ("accepted", "rejected")
    scores = {r["pair_id"]: (r["winner_score"], r["loser_score"]) for r in store.iter_pairs(project, decided)}
    seen: dict[frozenset[int], bool] = {}
    for p in store.list_pairs(project, person_id=person_id):
        if p.status not in decided or p.id not in scores:
            continue
        ws, ls = scores[p.id]
        if ws is None or ls is None or ws == ls:
            continue
        seen[frozenset((p.winner_id, p.loser_id))] = (p.status == "accepted") == (ws > ls)
    return Agreement(sum(seen.values()), len(seen))
