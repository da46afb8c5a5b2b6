"""One entry point for every dataset source: annotation files, photo folders, photos."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from engine.data.formats import get_format, sniff_format, writer_for
from engine.data.image_folder import IMAGE_SUFFIXES, detect_people, load_image_folder
from engine.data.records import AnnotationFile, LoadResult, PersonSample, reason
from engine.errors import AdhmrError, DataError, ImageError, JobCancelled
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

if TYPE_CHECKING:
    from engine.detect import PoseDetector

log = logging.getLogger(__name__)


def npz_format(path: str | Path) -> str:
    """The registered format of an npz archive ('prohmr' or 'spin' for the built-in ones),
    from its key names.

    Raises:
        DataError: missing file or not a readable npz archive.
    """
    return sniff_format(path)


def read_annotation_file(
    path: str | Path, image_root: str | Path | None = None, label_kind: str | None = None
) -> AnnotationFile:
    """Read an annotation file with the reader of its registered format (by its name's
    pattern, then its content: ``engine.data.formats.sniff_format``).

    Raises:
        DataError: no registered format reads it, or the reader's own errors.
    """
    p = Path(path)
    return get_format(sniff_format(p)).read(p, image_root, label_kind)


def save_annotation_file(
    path: str | Path,
    records: Sequence[PersonSample],
    format: str | None = None,
    file_extras: Mapping[str, Any] | None = None,
) -> None:
    """Write records in ``format`` (default: the first writable format registered for the
    file's suffix: 'spin' for .npz, 'coco' for .json)."""
    p = Path(path)
    writer_for(p, format).write(p, records, file_extras)


def _missing_images(records: list[PersonSample]) -> tuple[list[PersonSample], list[tuple[str, str]]]:
    exists: dict[str, bool] = {}
    kept, rejected = [], []
    for r in records:
        if r.image_path not in exists:
            exists[r.image_path] = os.path.isfile(r.image_path)
        if exists[r.image_path]:
            kept.append(r)
        else:
            rejected.append((r.source or r.image_path, f"image not found: {r.image_path}"))
    return kept, rejected


def _pose_detector() -> Any:
    from engine.detect import PoseDetector

    return PoseDetector()


def load_dataset(
    paths: str | Path | Sequence[str | Path],
    image_root: str | Path | None = None,
    detector: PoseDetector | None = None,
    label_kind: str | None = None,
    check_images: bool = True,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> LoadResult:
    """Records from any mix of sources; a bad source or row is reported, never fatal.

    paths: one or more of: an annotation file of a registered format (SPIN or ProHMR
        ``.npz``, COCO keypoints ``.json``, ...), a folder of photos, a single photo
        (photos go through the pose detector).
    image_root: folder that annotation files' image names are relative to (default:
        each file's own folder).
    detector: the pose detector for photos; built on first need when None.
    label_kind: 'gt' or 'pseudo' for npz rows with SMPL parameters and no label kind.
    check_images: reject annotation rows whose image file does not exist.

    Returns:
        LoadResult: the records in source order, and (where, reason) for every file or
        row that was skipped (where is the path, or 'path#row').

    Raises:
        JobCancelled: ``should_cancel`` returned True.
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    records: list[PersonSample] = []
    rejected: list[tuple[str, str]] = []
    for i, item in enumerate(items):
        check_cancel(should_cancel)
        p = Path(item)
        try:
            if not p.exists():
                err = ImageError if p.suffix.lower() in IMAGE_SUFFIXES else DataError
                raise err(f"{p}: no such file or folder")
            if p.is_dir():
                detector = detector or _pose_detector()
                found = load_image_folder(p, detector, should_cancel=should_cancel)
                records += found.records
                rejected += found.rejected
            elif p.suffix.lower() in IMAGE_SUFFIXES:
                detector = detector or _pose_detector()
                records += detect_people(p, detector)
            else:
                f = read_annotation_file(p, image_root, label_kind)
                kept, missing = _missing_images(list(f.records)) if check_images else (list(f.records), [])
                records += kept
                rejected += list(f.rejected) + missing
        except JobCancelled:
            raise
        except AdhmrError as exc:
            rejected.append((str(p), reason(p, exc)))
        progress(ProgressEvent((i + 1) / len(items), f"{i + 1}/{len(items)} sources, {len(records)} people"))
    if rejected:
        log.info("loaded %d records, skipped %d files or rows", len(records), len(rejected))
    return LoadResult(records, rejected)
