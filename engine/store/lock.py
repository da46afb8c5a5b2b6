"""Exclusive advisory file locks that die with their process.

The lock is held by an open file (``fcntl.flock`` on POSIX), so a process killed with
SIGKILL releases it: a lock never goes stale, and "can I take the lock" tells whether its
holder is still alive. The holder writes a one-line note (pid, host, what) into the file
so that a refused caller can say who is busy.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any

from engine.errors import StoreError
from engine.store.schema import utcnow

if sys.platform != "win32":
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

else:  # Windows: lock one byte far past the note so the note stays readable.
    import msvcrt

    _WIN_OFFSET = 1 << 20

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


_POLL_S = 0.1
# A lock path that is a symlink could point the truncating writes below at any file the
# user can write (a project folder received as a tar keeps such links); O_NONBLOCK keeps a
# FIFO planted there from hanging the open.
_SAFE_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _open_lock_file(path: Path, flags: int) -> int:
    """Open ``path`` as a lock file: a regular file, never through a symlink.

    Raises StoreError (one line) for a symlink, a directory or any other non-regular file.
    """
    try:
        fd = os.open(path, flags | _SAFE_FLAGS, 0o644)
    except IsADirectoryError:
        raise StoreError(f"{path}: is a directory, not a lock file; remove it") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(f"{path}: is a symbolic link; refusing to use it as a lock file (remove it)") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError(f"{path}: is not a regular file; refusing to use it as a lock file (remove it)")
    return fd


class FileLock:
    """An exclusive lock on ``path``; re-entrant use is an error.

    Two FileLock objects on the same path conflict even inside one process (each opens
    its own file description), so a GUI worker thread and the GUI thread exclude each
    other as two processes would.
    """

    def __init__(self, path: Path, what: str) -> None:
        """what: the lock's name in error messages ("project's writer lock")."""
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    def acquire(self, timeout: float = 0.0) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; StoreError names the holder."""
        if self._fd is not None:
            raise StoreError(f"{self.path}: lock already held by this object")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = _open_lock_file(self.path, os.O_RDWR | os.O_CREAT)
        except PermissionError:
            raise StoreError(f"{self.path}: cannot create the {self.what} (permission denied)") from None
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                holder = read_note(self.path)
                raise StoreError(f"{self.path}: busy, {describe(holder)} holds the {self.what}")
            time.sleep(_POLL_S)
        self._fd = fd
        self.note({})

    def note(self, extra: dict[str, Any]) -> None:
        """Rewrite the holder's note (pid, host, start time, and ``extra``)."""
        assert self._fd is not None, "note() needs the lock"
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": utcnow().isoformat(timespec="seconds"),
            **extra,
        }
        data = json.dumps(info).encode()
        os.ftruncate(self._fd, 0)
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.write(self._fd, data)

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(path: Path) -> bool:
    """Whether some live process (this one included) holds the lock on ``path``."""
    try:
        try:
            fd = _open_lock_file(path, os.O_RDWR)
        except PermissionError:  # a project on a read-only medium: flock needs no write access
            fd = _open_lock_file(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


def read_note(path: Path) -> dict[str, Any]:
    """The note the current holder wrote, or {} when there is none or it is unreadable."""
    try:
        fd = _open_lock_file(Path(path), os.O_RDONLY)
    except (OSError, StoreError):
        return {}
    try:
        with os.fdopen(fd, "rb") as fh:
            note = json.loads(fh.read(65536) or b"{}")
    except (OSError, ValueError):
        return {}
    return note if isinstance(note, dict) else {}


def describe(note: dict[str, Any]) -> str:
    """A short phrase naming a lock holder, for error messages."""
    where = f"pid {note.get('pid', '?')} on {note.get('host', '?')} since {note.get('since', '?')}"
    if "job" in note:
        return f"job {note['job']} ({note.get('kind', '?')}, {where})"
    return f"another process ({where})" if note else "another process"
