"""Preference pairs: proposed automatically from scorer ranks, decided by hand.

A pair's status moves from proposed to accepted, rejected, skipped or both_bad; every
manual change is committed at once and can be undone (``engine.store.actions``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import CursorResult, select
from sqlalchemy.dialects.sqlite import insert

from engine.errors import StoreError
from engine.store.actions import record_insert, record_update
from engine.store.project import Project
from engine.store.records import ActionRecord, PairRecord
from engine.store.schema import PAIR_STATUSES, Candidate, Pair, SampleRun, utcnow
from engine.store.tx import Db, get_row, transaction


@dataclass(frozen=True)
class PairProposal:
    """An automatic pair: two candidates of one person, the winner scored higher by margin."""

    person_id: int
    winner_id: int
    loser_id: int
    margin: float | None = None


def _check_candidates(session, person_id: int, winner_id: int, loser_id: int) -> None:
    if winner_id == loser_id:
        raise StoreError(
            f"pair of person {person_id}: winner and loser are both candidate {winner_id}"
        )
    owners = dict(
        session.execute(
            select(Candidate.id, SampleRun.person_id)
            .join(SampleRun, Candidate.run_id == SampleRun.id)
            .where(Candidate.id.in_((winner_id, loser_id)))
        ).all()
    )
    for cid in (winner_id, loser_id):
        if owners.get(cid) != person_id:
            raise StoreError(f"candidate {cid} is not a candidate of person {person_id}")


def add_auto_pairs(db: Db, proposals: Iterable[PairProposal]) -> int:
    """Add proposed pairs (source auto); a pair already present is left as it is.

    Returns how many new pairs were added.
    """
    added = 0
    with transaction(db) as session:
        for p in proposals:
            _check_candidates(session, p.person_id, p.winner_id, p.loser_id)
            result = session.execute(
                insert(Pair)
                .values(
                    person_id=p.person_id,
                    winner_id=p.winner_id,
                    loser_id=p.loser_id,
                    source="auto",
                    status="proposed",
                    margin=p.margin,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["winner_id", "loser_id"])
            )
            added += cast(CursorResult, result).rowcount
    return added


def list_pairs(
    db: Db, person_id: int | None = None, status: str | None = None, source: str | None = None
) -> list[PairRecord]:
    query = select(Pair).order_by(Pair.id)
    for column, value in (
        (Pair.person_id, person_id),
        (Pair.status, status),
        (Pair.source, source),
    ):
        if value is not None:
            query = query.where(column == value)
    with transaction(db) as session:
        return [PairRecord.of(r) for r in session.scalars(query)]


def decide_pair(
    project: Project, pair_id: int, status: str, who: str | None = None
) -> ActionRecord:
    """Set a pair's status by hand; committed before returning, undoable."""
    if status not in PAIR_STATUSES:
        raise StoreError(f"unknown pair status {status!r}, expected one of {PAIR_STATUSES}")
    with project.session(write=True) as session:
        pair = get_row(session, Pair, pair_id)
        action = record_update(
            session, pair, {"status": status, "who": who, "decided_at": utcnow()}, who
        )
        return ActionRecord.of(action)


def add_manual_pair(
    project: Project, person_id: int, winner_id: int, loser_id: int, who: str | None = None
) -> int:
    """A pair picked by hand (source manual, status accepted); committed, undoable.

    If the two candidates are already paired that way, the existing pair is accepted.
    """
    with project.session(write=True) as session:
        _check_candidates(session, person_id, winner_id, loser_id)
        now = utcnow()
        existing = session.scalar(
            select(Pair).where(Pair.winner_id == winner_id, Pair.loser_id == loser_id)
        )
        reverse = session.scalar(
            select(Pair).where(
                Pair.winner_id == loser_id,
                Pair.loser_id == winner_id,
                Pair.status.in_(("proposed", "accepted")),
            )
        )
        if reverse is not None:
            raise StoreError(
                f"candidates {winner_id} and {loser_id} are already paired the other "
                f"way round (pair {reverse.id}, {reverse.status}); reject it first"
            )
        if existing is not None:
            record_update(
                session, existing, {"status": "accepted", "who": who, "decided_at": now}, who
            )
            return existing.id
        pair = Pair(
            person_id=person_id,
            winner_id=winner_id,
            loser_id=loser_id,
            source="manual",
            status="accepted",
            who=who,
            decided_at=now,
            created_at=now,
        )
        record_insert(session, pair, who)
        return pair.id
