"""Which annotation files a dataset was imported from, kept beside the project file.

``<data>/datasets/<dataset id>.json`` lists each source once: its absolute path, format,
the image root its image names are relative to, and its sha256 when it was imported.
Exporting a dataset in its own format reads the source again (when it is unchanged), so
the written file keeps everything the project's tables do not hold (extra joints, the
full-precision originals, other keys).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.errors import StoreError
from engine.store import Project


@dataclass(frozen=True)
class Source:
    """One annotation file. format: 'spin', 'prohmr' or 'coco'."""

    path: str
    format: str
    image_root: str | None
    sha256: str


def _file(project: Project, dataset_id: int) -> Path:
    return project.data_dir / "datasets" / f"{dataset_id}.json"


def dataset_sources(project: Project, dataset_id: int) -> list[Source]:
    """The annotation files recorded for a dataset (empty for photo datasets)."""
    path = _file(project, dataset_id)
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [Source(**s) for s in doc["sources"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise StoreError(f"{path}: unreadable list of dataset sources ({e})") from None


def add_sources(project: Project, dataset_id: int, sources: list[Source]) -> None:
    """Record sources (once each, by path) for a dataset; written atomically."""
    known = dataset_sources(project, dataset_id)
    paths = {s.path for s in known}
    merged = known + [s for s in sources if s.path not in paths]
    if len(merged) == len(known):
        return
    path = _file(project, dataset_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"sources": [asdict(s) for s in merged]}, indent=1), encoding="utf-8")
    os.replace(tmp, path)
