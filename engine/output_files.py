"""Writing files the user names: never over a project or an input, never half a file.

A user-named output (``--out``, a converted model's destination) could be a path that
already holds something precious: the project being exported, a file in its data
folder, or the very file being read. ``check_output`` refuses those before anything is
written; ``atomic_output`` writes to a temporary sibling and renames it into place, so a
crash or a full disk leaves the old file (or none), never a truncated one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from engine.errors import StoreError


def _resolved(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(
    out: str | Path,
    *,
    project_file: str | Path | None = None,
    data_dir: str | Path | None = None,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Refuse an output path that is the project, lies in its data folder, or is an input.

    The project's SQLite side files (``-wal``, ``-shm``, ``.lock``) count as the project;
    paths are compared after resolving symlinks, so a link to the project is refused too.
    Returns ``out`` resolved. Raises StoreError with a one-line message naming ``out``.
    """
    target = _resolved(out)
    if target.is_dir():
        raise StoreError(f"{out}: is a folder; name a file to write")
    if project_file is not None:
        project = _resolved(project_file)
        for side in ("", "-wal", "-shm", "-journal", ".lock"):
            if _same_file(target, project.with_name(project.name + side)):
                raise StoreError(f"{out}: is the project file {project_file}; refusing to overwrite it")
    if data_dir is not None:
        folder = _resolved(data_dir)
        if target == folder or folder in target.parents:
            raise StoreError(f"{out}: lies in the project's data folder {data_dir}; write it somewhere else")
    for src in inputs:
        if _same_file(target, _resolved(src)):
            raise StoreError(f"{out}: is also an input ({src}); refusing to overwrite it")
    return target


@contextmanager
def atomic_output(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing and rename it over ``path`` on
    success; on any error the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode, newline="" if "b" not in mode else None) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
