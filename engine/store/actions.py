"""The undo history of manual decisions, kept in the ``actions`` table.

Every manual decision (a pair's status, a cleaning override, a hand-made pair) is applied
and recorded in one transaction, so undo and redo survive closing the project. The undone
actions always form the tail of the history; recording a new decision drops them, as in
an editor.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, delete, select
from sqlalchemy.orm import Session

from engine.store.project import Project
from engine.store.records import ActionRecord
from engine.store.schema import Action, Base, CleaningDecision, Pair
from engine.store.tx import Db, transaction

log = logging.getLogger(__name__)

# table name -> (model, columns a manual decision may change)
UNDOABLE: dict[str, tuple[type[Base], frozenset[str]]] = {
    "pairs": (Pair, frozenset({"status", "who", "decided_at"})),
    "cleaning_decisions": (CleaningDecision, frozenset({"override", "who", "decided_at"})),
}


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    columns = model.__table__.c
    return {
        k: datetime.fromisoformat(v)
        if isinstance(columns[k].type, DateTime) and v is not None
        else v
        for k, v in values.items()
    }


def _append(session: Session, action: Action) -> Action:
    session.execute(delete(Action).where(Action.undone.is_(True)))
    session.add(action)
    session.flush()
    return action


def record_update(session: Session, row: Base, values: dict[str, Any], who: str | None) -> Action:
    """Set ``values`` on ``row`` and record the change as one undoable action."""
    table = row.__tablename__
    _, allowed = UNDOABLE[table]
    assert set(values) <= allowed, f"{sorted(set(values) - allowed)} of {table} are not undoable"
    old = {k: _encode(getattr(row, k)) for k in values}
    for k, v in values.items():
        setattr(row, k, v)
    return _append(
        session,
        Action(
            table_name=table,
            row_id=getattr(row, "id"),  # every table's key (Base declares none)
            op="update",
            old_value=old,
            new_value={k: _encode(v) for k, v in values.items()},
            who=who,
        ),
    )


def record_insert(session: Session, row: Base, who: str | None) -> Action:
    """Add ``row`` and record its creation as one undoable action."""
    assert row.__tablename__ in UNDOABLE, f"{row.__tablename__} rows are not undoable"
    session.add(row)
    session.flush()
    values = {c.key: _encode(getattr(row, c.key)) for c in row.__table__.columns}
    return _append(
        session,
        Action(
            table_name=row.__tablename__,
            row_id=getattr(row, "id"),  # every table's key (Base declares none)
            op="insert",
            old_value=None,
            new_value=values,
            who=who,
        ),
    )


def _apply(session: Session, action: Action, backwards: bool) -> None:
    model, _ = UNDOABLE[action.table_name]
    row = session.get(model, action.row_id)
    if action.op == "insert":
        if backwards and row is not None:
            session.delete(row)
        elif not backwards and row is None:
            session.add(model(**_decode(model, action.new_value)))
    elif row is None:
        log.warning(
            "action %d: %s row %d no longer exists", action.id, action.table_name, action.row_id
        )
    else:
        values = action.old_value if backwards else action.new_value
        assert values is not None  # an update records both sides
        for k, v in _decode(model, values).items():
            setattr(row, k, v)
    session.flush()


def undo(project: Project) -> ActionRecord | None:
    """Revert the newest decision not yet undone; None when there is nothing to undo."""
    with project.session(write=True) as session:
        action = session.scalar(
            select(Action).where(Action.undone.is_(False)).order_by(Action.id.desc()).limit(1)
        )
        if action is None:
            return None
        _apply(session, action, backwards=True)
        action.undone = True
        return ActionRecord.of(action)


def redo(project: Project) -> ActionRecord | None:
    """Re-apply the most recently undone decision; None when there is nothing to redo."""
    with project.session(write=True) as session:
        action = session.scalar(
            select(Action).where(Action.undone.is_(True)).order_by(Action.id).limit(1)
        )
        if action is None:
            return None
        _apply(session, action, backwards=False)
        action.undone = False
        return ActionRecord.of(action)


def history(db: Db, limit: int = 100) -> list[ActionRecord]:
    """The newest ``limit`` actions, newest first (undone ones included, flagged)."""
    with transaction(db) as session:
        rows = session.scalars(select(Action).order_by(Action.id.desc()).limit(limit))
        return [ActionRecord.of(r) for r in rows]
