"""The declarative base, shared column helpers and the allowed values of status columns.

Times are stored as naive UTC datetimes (SQLite has no time zone type); records turn them
into aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep batch migrations (SQLite rebuilds tables to alter them) reproducible.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CHECKPOINT_KINDS = ("base", "scorer", "dpo")
PAIR_SOURCES = ("auto", "manual")
PAIR_STATUSES = ("proposed", "accepted", "rejected", "skipped", "both_bad")
JOB_STATUSES = ("queued", "running", "cancel_requested", "done", "failed", "cancelled")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the tables store."""
    return datetime.now(UTC).replace(tzinfo=None)


def one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    """A CHECK constraint that keeps ``column`` within ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)
