"""Save a project under another name: the app's *Save As*, and how a scratch project
(a photo looked at on its own, in a temporary folder) is kept.

The copy is SQLite's online backup of the project file (consistent while the project is
open, WAL included) and a copy of its data folder. Paths the copy would otherwise read
from the wrong place are rewritten in it: image folders stored relative to the old
project become absolute (the images stay where they are), and checkpoints kept in the
old data folder point to their copies in the new one.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import select

from engine.errors import StoreError
from engine.store import Project
from engine.store.project import copy_database, data_dir_for

log = logging.getLogger(__name__)


def save_project_as(project: Project, target: str | Path) -> Path:
    """Copy the open ``project`` to the new project file ``target``; returns its path.

    Raises StoreError (one line naming the file) when ``target`` or its data folder
    exists already, or the copy cannot be written; a failed copy leaves nothing behind.
    """
    from engine.store.schema.data import Checkpoint, Dataset, Image

    target = Path(target).resolve()
    target_data = data_dir_for(target)
    for path in (target, target_data):
        if path.exists():
            raise StoreError(f"{path}: already exists, pick another name")
    old_root, old_data = project.path.resolve().parent, project.data_dir.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_database(project.path, target)
        if old_data.is_dir():
            # Lock files belong to the old project's writers, not to the copy.
            shutil.copytree(old_data, target_data, ignore=shutil.ignore_patterns("*.lock"))
        copy = Project.open(target)
    except (OSError, sqlite3.Error) as exc:
        _remove(target, target_data)
        raise StoreError(f"{target}: cannot save the project there ({exc})") from None
    try:
        with copy.session(write=True) as session:
            datasets = list(session.scalars(select(Dataset)))
            for ds in datasets:
                if ds.source_path and not Path(ds.source_path).is_absolute():
                    ds.source_path = str(old_root / ds.source_path)
                elif not ds.source_path:
                    paths = session.scalars(select(Image.path).where(Image.dataset_id == ds.id))
                    if any(not Path(p).is_absolute() for p in paths):
                        ds.source_path = str(old_root)  # its relative images were under the old project
            for ckpt in session.scalars(select(Checkpoint)):
                path = Path(ckpt.path)
                if path.is_absolute() and path.is_relative_to(old_data):
                    ckpt.path = str(target_data / path.relative_to(old_data))
    finally:
        copy.close()
    log.info("saved %s as %s", project.path, target)
    return target


def _remove(target: Path, target_data: Path) -> None:
    for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(target_data, ignore_errors=True)
