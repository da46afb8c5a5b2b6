"""Dataset file formats: one registration per format (name, file patterns, sniffing,
reader, writer), read by every place that lists, detects, reads or writes them: loading
(``engine.data.load``), project import and export, the npz column rules, the ``adhmr
import`` / ``adhmr export`` choices and the app's file dialog filter.

A new format is one ``register_format(DatasetFormat(...))`` call (see README, Extending).
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.data.records import AnnotationFile, PersonSample
from engine.errors import DataError

Reader = Callable[[Path, "str | Path | None", "str | None"], AnnotationFile]
"""reader(path, image_root, label_kind) -> AnnotationFile; DataError for a bad file."""
Writer = Callable[..., None]
"""writer(path, records, file_extras=None, image_root=None): the records (and file-level
extras) as one file, image names relative to ``image_root`` (default: the file's folder)."""


@dataclass(frozen=True)
class DatasetFormat:
    """name: what ``--format`` and a project's datasets call it. title: for people (file
    dialogs). patterns: file-name patterns ('*.npz'); the first format registered for a
    pattern is the one written for it by default. sniff(path): True when a file matching
    the patterns is of this format (None: every such file is). reader / writer: None when
    the format is only read or only written."""

    name: str
    title: str
    patterns: tuple[str, ...]
    reader: Reader | None = None
    writer: Writer | None = None
    sniff: Callable[[Path], bool] | None = None

    def matches(self, path: str | Path) -> bool:
        """Whether the file's name matches one of the patterns (case-insensitive)."""
        name = Path(path).name.lower()
        return any(fnmatch.fnmatch(name, p.lower()) for p in self.patterns)

    def read(self, path: str | Path, image_root: str | Path | None, label_kind: str | None) -> AnnotationFile:
        """The reader's result; DataError for a format that is only written."""
        if self.reader is None:
            raise DataError(f"{path}: the {self.name} format is write only")
        return self.reader(Path(path), image_root, label_kind)

    def write(self, path: str | Path, records: Sequence[PersonSample], file_extras: Mapping[str, Any] | None = None,
              image_root: str | Path | None = None) -> None:
        """Write with the writer; DataError for a format that is only read."""
        if self.writer is None:
            raise DataError(f"{path}: the {self.name} format is read only")
        self.writer(path, records, file_extras, image_root)


_FORMATS: dict[str, DatasetFormat] = {}
_BUILTINS_LOADED = False


def _registry() -> dict[str, DatasetFormat]:
    """The formats, the built-in ones (``engine.data.builtin_formats``) first. They are
    imported on first use, by name, because their readers use the column rules
    (``npz_columns``) that consult this registry."""
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        importlib.import_module("engine.data.builtin_formats")
    return _FORMATS


def register_format(fmt: DatasetFormat, replace: bool = False) -> None:
    """Make ``fmt`` known everywhere; DataError if its name is taken (unless ``replace``).
    A format that sniffs is tried before those that do not (it is the more specific one)."""
    if fmt.name in _registry() and not replace:
        raise DataError(f"dataset format {fmt.name!r} is already registered")
    _FORMATS[fmt.name] = fmt


def unregister_format(name: str) -> None:
    """Forget a format (tests and plug-ins that registered one for a while)."""
    _FORMATS.pop(name, None)


def formats() -> tuple[DatasetFormat, ...]:
    """Every registered format, in registration order."""
    return tuple(_registry().values())


def readable() -> tuple[str, ...]:
    return tuple(f.name for f in _registry().values() if f.reader is not None)


def writable() -> tuple[str, ...]:
    return tuple(f.name for f in _registry().values() if f.writer is not None)


def get_format(name: str) -> DatasetFormat:
    """The format called ``name``; DataError naming the known ones."""
    try:
        return _registry()[name]
    except KeyError:
        raise DataError(f"unknown dataset format {name!r}, expected one of {', '.join(_registry())}") from None


def sniff_format(path: str | Path) -> str:
    """The name of the format of an existing annotation file: the formats whose patterns
    match its name are asked in turn, those that sniff first. DataError when none fits."""
    p = Path(path)
    candidates = [f for f in _registry().values() if f.reader is not None and f.matches(p)]
    for f in sorted(candidates, key=lambda f: f.sniff is None):
        if f.sniff is None or f.sniff(p):
            return f.name
    raise DataError(f"{p}: unknown annotation file type '{p.suffix}' (expected {patterns_text()})")


def writer_for(path: str | Path, name: str | None = None) -> DatasetFormat:
    """The format to write ``path`` in: ``name``, or the first writable format whose
    patterns match the file's name. DataError when there is none."""
    if name is not None:
        fmt = get_format(name)
        if fmt.writer is None:
            raise DataError(f"{path}: the {name} format is read only (write one of {', '.join(writable())})")
        return fmt
    for fmt in _registry().values():
        if fmt.writer is not None and fmt.matches(path):
            return fmt
    raise DataError(f"{path}: cannot tell the format to write (pass one of {', '.join(writable())})")


def patterns_text() -> str:
    """'*.npz, *.json': every registered pattern, once."""
    return ", ".join(dict.fromkeys(p for f in _registry().values() for p in f.patterns))


def file_filter() -> str:
    """A Qt file-dialog filter: every annotation pattern, each format, then all files."""
    everything = " ".join(dict.fromkeys(p for f in _registry().values() if f.reader for p in f.patterns))
    each = [f"{f.title} ({' '.join(f.patterns)})" for f in _registry().values() if f.reader is not None]
    return ";;".join([f"Annotation files ({everything})", *each, "All files (*)"])
