"""Repository functions take either a Project or a Session.

A Project: the function runs in its own transaction, committed before it returns.
A Session: the function joins the caller's transaction (an importer adding thousands of
rows commits once).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.orm import Session

from engine.errors import StoreError
from engine.store.project import Project
from engine.store.schema import Base

Db = Project | Session
T = TypeVar("T", bound=Base)


@contextmanager
def transaction(db: Db, write: bool = False) -> Iterator[Session]:
    if isinstance(db, Session):
        yield db
    else:
        with db.session(write=write) as session:
            yield session


def get_row(session: Session, model: type[T], row_id: int) -> T:
    """The row with ``row_id``, or StoreError naming the table."""
    row = session.get(model, row_id)
    if row is None:
        raise StoreError(f"no {model.__tablename__} row with id {row_id}")
    return row
