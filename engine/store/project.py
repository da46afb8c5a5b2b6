"""A project: one SQLite file plus a sibling ``<stem>_data/`` folder.

``Project.create`` makes a new file at the newest schema; ``Project.open`` checks the
file first without writing to it (an SQLite header, the project's application id, a known
schema revision), then upgrades an older file after copying it to ``<name>.bak-<rev>``.
Every connection runs in WAL mode with foreign keys on and a busy timeout, so several
threads and processes can read while one writes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import StoreError
from engine.store import migrate
from engine.store.lock import FileLock

log = logging.getLogger(__name__)

APPLICATION_ID = 0x41444D52  # "ADMR" in the SQLite header marks a project file.
BUSY_TIMEOUT_MS = 30_000
_SQLITE_MAGIC = b"SQLite format 3\x00"
_IMMEDIATE = "adhmr_immediate"


def data_dir_for(path: Path) -> Path:
    """The folder beside a project file for checkpoints, caches and job state."""
    return path.with_name(f"{path.stem}_data")


def writable(path: Path) -> bool:
    """Whether this process may write the project file and create SQLite's -wal and
    -shm files beside it; a project on a read-only medium is opened read-only."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _make_engine(path: Path, read_only: bool = False) -> Engine:
    if read_only:
        # mode=ro still needs the -shm file of a WAL database, which a read-only folder
        # cannot hold: there the file is opened as immutable (nobody can change it).
        how = "mode=ro" if os.access(path.parent, os.W_OK) else "immutable=1"
        engine = create_engine(f"sqlite:///file:{path.resolve()}?{how}&uri=true")
    else:
        engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (the driver's own handling
        # defers it past SELECTs, which breaks read-then-write transactions).
        dbapi_connection.isolation_level = None
        writing = ("journal_mode=WAL", "synchronous=FULL") if not read_only else ()
        for pragma in (*writing, "foreign_keys=ON", f"busy_timeout={BUSY_TIMEOUT_MS}"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # IMMEDIATE takes the write lock up front, so a writer waits for busy_timeout
        # instead of failing when another connection committed since it first read.
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _peek_revision(path: Path) -> str | None:
    """The schema revision stored in ``path``, read without writing to the file."""
    sidecars = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    existed = [p.exists() for p in sidecars]
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "alembic_version" not in tables:
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise StoreError(f"{path}: cannot read the project file ({e})") from None
    finally:
        # A read-only connection to a WAL file leaves empty -wal/-shm files behind.
        for sidecar, was_there in zip(sidecars, existed, strict=True):
            if not was_there and sidecar.exists() and sidecar.stat().st_size in (0, 32768):
                sidecar.unlink(missing_ok=True)


def _backup(path: Path, revision: str) -> Path:
    target = path.with_name(f"{path.name}.bak-{revision}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}.bak-{revision}-{n}")
        n += 1
    copy_database(path, target)
    return target


def copy_database(path: Path, target: Path) -> None:
    """Copy the SQLite file at ``path`` to ``target`` through SQLite's online backup
    (consistent even while another process writes; ``path`` is opened read-only)."""
    src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _upgrade(path: Path, engine: Engine, revision: str) -> None:
    """Upgrade to the head schema after a backup copy; on failure the upgrade's
    transaction is rolled back and the copy removed, so each failed open leaves nothing."""
    backup = _backup(path, revision)
    log.info("upgrading %s from schema %s, backup at %s", path, revision, backup)
    try:
        with engine.begin() as conn:
            migrate.upgrade(conn)
    except (SQLAlchemyError, CommandError) as exc:
        engine.dispose()
        backup.unlink(missing_ok=True)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StoreError(
            f"{path}: its tables do not match the schema revision {revision} it records, so it cannot be "
            f"upgraded ({reason})"
        ) from None


class Project:
    """An open project file. Use ``Project.create`` or ``Project.open``, then ``close``.

    Sessions are not shared between threads: each thread opens its own with
    ``with project.session() as s: ...`` (committed when the block ends without error).
    """

    def __init__(self, path: Path, engine: Engine, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.data_dir = data_dir_for(path)
        self.lock_path = path.with_name(path.name + ".lock")
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def create(cls, path: str | Path) -> Project:
        """Make a new, empty project at ``path``; StoreError if something is there."""
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path}: already exists, open it or pick another name")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            raw = sqlite3.connect(path)
            raw.execute(f"PRAGMA application_id={APPLICATION_ID}")
            raw.execute("PRAGMA journal_mode=WAL")
            raw.close()
            engine = _make_engine(path)
            with engine.begin() as conn:
                migrate.upgrade(conn)
        except Exception:
            for leftover in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                leftover.unlink(missing_ok=True)
            raise
        data_dir_for(path).mkdir(exist_ok=True)
        log.info("created project %s", path)
        return cls(path, engine)

    @classmethod
    def open(cls, path: str | Path, read_only: bool | None = None) -> Project:
        """Open an existing project, upgrading an older schema after a backup copy.

        read_only: open without ever writing (listing, viewing, exporting); None: when
        the file or its folder is not writable. A write then raises StoreError.
        Raises StoreError, leaving the file untouched, when it is missing, not a project,
        written by a newer version of the software, or its tables do not match the
        schema revision it records (then no backup copy is left either).
        """
        path = Path(path)
        check_project_file(path)
        if read_only is None:
            read_only = not writable(path)
        revision = _peek_revision(path)
        if revision is None:
            raise StoreError(f"{path}: damaged project file, it records no schema revision")
        if revision not in migrate.known_revisions():
            raise StoreError(
                f"{path}: written by a newer version of ADHMR Studio (schema {revision}, this "
                f"version knows up to {migrate.head_revision()}); update the software to open it"
            )
        engine = _make_engine(path, read_only)
        if revision != migrate.head_revision():
            if read_only:
                raise StoreError(f"{path}: read-only, and its schema {revision} needs an upgrade to "
                                 f"{migrate.head_revision()}; open a writable copy")
            _upgrade(path, engine, revision)
        if not read_only:
            data_dir_for(path).mkdir(exist_ok=True)
        return cls(path, engine, read_only)

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A session in one transaction, committed at the end of the block.

        write: take SQLite's write lock at BEGIN. Use it for read-then-write work, so
        that a concurrent writer makes this one wait (busy timeout) rather than fail.
        """
        if write and self.read_only:
            raise StoreError(f"{self.path}: opened read-only (the file or its folder is not writable)")
        try:
            with self._sessions.begin() as session:
                if write:
                    session.connection(execution_options={_IMMEDIATE: True})
                yield session
        except OperationalError as exc:
            if "readonly" not in str(exc) and "read-only" not in str(exc):
                raise
            raise StoreError(f"{self.path}: cannot write, the project is read-only") from None
        except OverflowError:  # an id or count beyond SQLite's 64-bit integers, as a user may type
            raise StoreError(f"{self.path}: a number too large for the project file (ids are below 2^63)") from None

    @property
    def revision(self) -> str:
        """The schema revision of the open file."""
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()

    def writer_lock(self) -> FileLock:
        """The lock that admits one writer job per project (not yet acquired)."""
        return FileLock(self.lock_path, "project's writer lock (one writer job at a time)")

    def resolve(self, stored: str, base: str | None = None) -> Path:
        """A path stored in the project as an absolute path.

        Relative paths are taken from ``base`` (itself relative to the project folder)
        or from the project folder. Absolute even for a project opened by a relative
        path: a path frozen in a job's files must not depend on the working directory.
        """
        p = Path(stored)
        if p.is_absolute():
            return p
        root = self.path.absolute().parent if base is None else self.resolve(base)
        return root / p

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r})"


def check_project_file(path: Path) -> None:
    """StoreError unless ``path`` is an SQLite file carrying the project's application id.

    Reads the 100-byte SQLite header only.
    """
    if not path.is_file():
        raise StoreError(f"{path}: no such project file")
    with open(path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{path}: not an ADHMR project (not an SQLite database)")
    if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        raise StoreError(
            f"{path}: not an ADHMR project (an SQLite database without project tables)"
        )
