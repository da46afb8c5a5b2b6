"""Import datasets into a project: annotation files (SPIN / ProHMR npz, COCO JSON) and photos.

Every source goes through ``engine.data`` (``load_dataset`` or the format's reader), so a
malformed file or row is reported with its reason and the rest is imported. Each image is
written with its persons in one transaction, and images are committed in small batches;
importing again with the same arguments skips images the dataset already holds, so an
interrupted import resumes where it stopped and never duplicates an image.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.data.formats import formats, get_format, patterns_text, readable, sniff_format
from engine.data.image_folder import IMAGE_SUFFIXES, list_images, unsupported_images
from engine.data.load import load_dataset
from engine.data.records import PersonSample, reason
from engine.errors import AdhmrError, DataError, ImageError, StoreError
from engine.image_io import image_size
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.projects.labels import label_params
from engine.projects.sources import Source, add_sources
from engine.store import Project, add_dataset, add_image, add_person, get_dataset, image_files
from engine.store.repo_images import detector_outputs

if TYPE_CHECKING:
    from engine.body.model import BodyModel
    from engine.detect import PoseDetector

log = logging.getLogger(__name__)

BATCH_IMAGES = 64
READ_SHARE = 0.1
BATCH_S = 1.0
DETECT_CHUNK = 8
_CHUNK = 1 << 20


def import_formats() -> tuple[str, ...]:
    """What ``format`` may be: 'auto', every registered readable format, 'images'."""
    return ("auto", *readable(), "images")


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    dataset_id: None when nothing could be imported and the dataset did not exist.
    images, persons: rows added by this call. already: images the dataset held before.
    rejected: (where, reason) for each file or row left out ('path' or 'path#row').
    """

    dataset: str
    dataset_id: int | None
    format: str
    images: int = 0
    persons: int = 0
    already: int = 0
    rejected: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "dataset_id": self.dataset_id,
            "format": self.format,
            "images": self.images,
            "persons": self.persons,
            "already": self.already,
            "rejected": [list(r) for r in self.rejected],
        }


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def image_info(path: str | Path) -> tuple[str, int, int]:
    """(sha256, width, height) of an image file, reading only its header for the size.

    Raises ImageError when the file is missing, not an image, or too large or small
    (``engine.image_io.image_size``).
    """
    width, height = image_size(path)
    return sha256_file(path), width, height


def norm_path(path: str | Path) -> str:
    """An absolute, normalised path string (how image paths are compared)."""
    return os.path.normpath(os.path.abspath(path))


def _sniff(path: Path) -> str:
    """The registered format of an annotation file; DataError for anything else."""
    if not any(f.matches(path) for f in formats() if f.reader is not None):
        raise DataError(f"{path}: unknown file type '{path.suffix}' (expected {patterns_text()}, a photo or a folder)")
    return sniff_format(path)


@dataclass
class _Plan:
    annotations: list[tuple[Path, str]] = field(default_factory=list)
    photos: list[Path] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def format(self) -> str:
        kinds = {f for _, f in self.annotations} | ({"images"} if self.photos else set())
        return kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "")


_READ_SUFFIXES = ", ".join(sorted(IMAGE_SUFFIXES))


def _plan(paths: Sequence[Path], format: str) -> _Plan:
    plan = _Plan()
    for p in paths:
        try:
            if p.is_dir():
                if format not in ("auto", "images"):
                    raise DataError(f"{p}: a folder, but --format {format} expects an annotation file")
                found = list_images(p)
                plan.rejected += [(str(f), f"{f.suffix.lower()} images are not read (use {_READ_SUFFIXES})")
                                  for f in unsupported_images(p)]
                if not found:
                    raise DataError(f"{p}: no image files in this folder")
                plan.photos += found
            elif not p.exists():
                raise DataError(f"{p}: no such file or folder")
            elif format in ("auto", "images") and p.suffix.lower() in IMAGE_SUFFIXES:
                plan.photos.append(p)
            elif format == "images":
                raise DataError(f"{p}: not a photo (suffix '{p.suffix}'), but --format images was asked")
            else:
                plan.annotations.append((p, _sniff(p) if format == "auto" else format))
        except AdhmrError as e:
            plan.rejected.append((str(p), reason(p, e)))
    plan.photos = list({norm_path(p): p for p in plan.photos}.values())
    return plan


def _read_annotation(
    path: Path, fmt: str, auto: bool, image_root: str | None, label_kind: str | None,
    should_cancel: CancelFn,
) -> tuple[list[PersonSample], list[tuple[str, str]]]:
    if auto:
        res = load_dataset([path], image_root, label_kind=label_kind, should_cancel=should_cancel)
        return res.records, res.rejected
    try:
        f = get_format(fmt).read(path, image_root, label_kind)
    except AdhmrError as e:
        return [], [(str(path), reason(path, e))]
    records, rejected = [], list(f.rejected)
    for r in f.records:
        if os.path.isfile(r.image_path):
            records.append(r)
        else:
            rejected.append((r.source or str(path), f"image not found: {r.image_path}"))
    return records, rejected


def relative_if_inside(path: str, folder: str) -> str:
    """``path`` relative to ``folder`` when inside it, else ``path`` (both normalised)."""
    try:
        if os.path.commonpath([path, folder]) == folder:
            return os.path.relpath(path, folder)
    except ValueError:  # another drive on Windows
        pass
    return path


class _Writer:
    """Writes images with their persons into one dataset, a batch per transaction."""

    def __init__(self, project: Project, name: str, fmt: str, root: str, sources: list[Source],
                 body: BodyModel | None) -> None:
        self.project, self.name, self.fmt, self.root = project, name, fmt, root
        self.sources, self.body = sources, body
        self.dataset_id: int | None = None
        self.known: set[str] = set()
        self.images = self.persons = 0
        self.rejected: list[tuple[str, str]] = []
        try:
            ds = get_dataset(project, name)
        except StoreError:
            return
        if ds.format != fmt:
            raise DataError(
                f"dataset {name!r} holds {ds.format} data; import {fmt} data under another --name"
            )
        self.dataset_id = ds.id
        self.root = norm_path(project.resolve(ds.source_path)) if ds.source_path else root
        self.known = {norm_path(p) for _, p in image_files(project, ds.id)}
        add_sources(project, ds.id, sources)

    def _ensure_dataset(self) -> int:
        if self.dataset_id is None:
            self.dataset_id = add_dataset(self.project, self.name, self.fmt, self._inside_project(self.root))
            add_sources(self.project, self.dataset_id, self.sources)
            log.info("created dataset %r (%s)", self.name, self.fmt)
        return self.dataset_id

    def _inside_project(self, path: str) -> str:
        # Data inside the project folder is stored relative to it, so both move together.
        return relative_if_inside(path, norm_path(self.project.path.parent))

    def _stored_path(self, image_path: str) -> str:
        return relative_if_inside(norm_path(image_path), self.root)

    def write(self, groups: list[tuple[str, list[PersonSample]]]) -> None:
        """Add each (image path, its records) group: the image and its persons, or neither."""
        todo = []
        for image_path, records in groups:
            try:
                todo.append((image_path, records, image_info(image_path)))
            except ImageError as e:
                where = [r.source or image_path for r in records] or [image_path]
                self.rejected += [(w, reason(image_path, e)) for w in where]
        if not todo:
            return
        flat = [r for _, records, _ in todo for r in records]
        if self.body is None and any(r.pose is not None and r.camera is None for r in flat):
            from engine.body.model import BodyModel

            self.body = BodyModel()
        labels = iter(label_params(flat, self.body))
        dataset_id = self._ensure_dataset()
        with self.project.session(write=True) as s:
            for image_path, records, (digest, width, height) in todo:
                params = [next(labels) for _ in records]
                try:
                    with s.begin_nested():
                        image_id = add_image(s, dataset_id, self._stored_path(image_path), digest, width, height)
                        for r, label in zip(records, params, strict=True):
                            add_person(
                                s, image_id, r.box, r.keypoints, label,
                                r.label_kind if label is not None else None,
                                None if r.joints3d is None else r.joints3d[:, :3],
                                detector_outputs(r),
                            )
                except AdhmrError as e:
                    self.rejected += [(r.source or image_path, reason(image_path, e)) for r in records]
                    continue
                self.known.add(norm_path(image_path))
                self.images += 1
                self.persons += len(records)


def import_dataset(
    project: Project,
    paths: Sequence[str | Path],
    name: str | None = None,
    format: str = "auto",
    image_root: str | Path | None = None,
    label_kind: str | None = None,
    detect: bool = True,
    detector: PoseDetector | None = None,
    body: BodyModel | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> ImportReport:
    """Import files and folders into the dataset ``name`` (made if missing).

    paths: SPIN / ProHMR ``.npz``, COCO ``.json``, photos, folders of photos.
    name: the dataset (default: the first path's name without suffix). Importing into an
        existing dataset adds what it does not hold yet; it must hold the same format.
    format: 'auto' (by suffix and npz keys), or force 'spin', 'prohmr', 'coco', 'images'.
    image_root: the folder annotation image names are relative to (default: each file's
        folder); also where stored image paths are relative to.
    label_kind: 'gt' or 'pseudo' for labels whose file does not say.
    detect: find every person in each photo with the pose detector (``detector``, built
        when needed; its min_size / min_score apply), one person row each with the
        detector's outputs; False adds the photos without persons (``detect_dataset``
        fills them).
    body: the BodyModel for fitting cameras to labels without one (built when needed).

    Raises DataError for a bad argument or a format clash with the existing dataset,
    DetectorError when the detector cannot be built, JobCancelled when cancelled; a bad
    file or row is only reported in ``rejected``.
    """
    if format not in import_formats():
        raise DataError(f"unknown import format {format!r}, expected one of {', '.join(import_formats())}")
    # The same file given twice (under any spelling) is read once.
    items = list({norm_path(p): Path(p) for p in paths}.values())
    if not items:
        raise DataError("nothing to import: give at least one file or folder")
    name = name or items[0].stem or items[0].name
    plan = _plan(items, format)
    first = items[0] if items[0].is_dir() else items[0].parent
    root = norm_path(image_root if image_root is not None else first)
    rejected = list(plan.rejected)
    # Reading the annotation files is the first READ_SHARE of the bar, writing the rest.
    read_share = READ_SHARE if plan.annotations else 0.0
    n_read = done = 0
    total = 0

    def read_one(what: str) -> None:
        nonlocal n_read
        n_read += 1
        progress(ProgressEvent(read_share * n_read / len(plan.annotations), what))

    def tick(units: int, what: str) -> None:
        nonlocal done
        done += units
        progress(ProgressEvent(read_share + (1 - read_share) * done / max(total, 1), what))

    groups: dict[str, list[PersonSample]] = {}
    sources: list[Source] = []
    for path, fmt in plan.annotations:
        check_cancel(should_cancel)
        records, bad = _read_annotation(
            path, fmt, format == "auto", None if image_root is None else str(image_root),
            label_kind, should_cancel,
        )
        rejected += bad
        if not records and not bad:
            rejected.append((str(path), "holds no persons"))
        if records:
            root_of = str(image_root) if image_root is not None else str(path.absolute().parent)
            sources.append(Source(norm_path(path), fmt, norm_path(root_of), sha256_file(path)))
        for r in records:
            groups.setdefault(norm_path(r.image_path), []).append(r)
        read_one(f"read {path.name}")
    if not groups and not plan.photos:
        log.info("nothing to import into %r", name)
        return ImportReport(name, _dataset_id(project, name), plan.format, rejected=tuple(rejected))

    writer = _Writer(project, name, plan.format, root, sources, body)
    total = len(groups) + len(plan.photos)
    fresh = [(k, v) for k, v in groups.items() if k not in writer.known]
    already = len(groups) - len(fresh)
    tick(already, f"{already} images already imported")
    pending: list[tuple[str, list[PersonSample]]] = []
    started = time.monotonic()
    for image_path, records in fresh:
        pending.append((image_path, records))
        if len(pending) >= BATCH_IMAGES or time.monotonic() - started >= BATCH_S:
            check_cancel(should_cancel)
            writer.write(pending)
            tick(len(pending), f"{writer.images} images imported")
            pending, started = [], time.monotonic()
    if pending:
        check_cancel(should_cancel)
        writer.write(pending)
        tick(len(pending), f"{writer.images} images imported")

    photos = [p for p in plan.photos if norm_path(p) not in writer.known]
    already += len(plan.photos) - len(photos)
    tick(len(plan.photos) - len(photos), "photos already imported")
    for start in range(0, len(photos), DETECT_CHUNK):
        check_cancel(should_cancel)
        chunk = photos[start : start + DETECT_CHUNK]
        if detect:
            if detector is None:
                from engine.detect import PoseDetector

                detector = PoseDetector()
            res = load_dataset(chunk, detector=detector, should_cancel=should_cancel)
            rejected += res.rejected
            # A photo holds as many records as people found: one image row for them all.
            by_photo: dict[str, list[PersonSample]] = {}
            for r in res.records:
                by_photo.setdefault(norm_path(r.image_path), []).append(r)
            writer.write(list(by_photo.items()))
        else:
            writer.write([(norm_path(p), []) for p in chunk])
        tick(len(chunk), f"{writer.images} images imported")
    rejected += writer.rejected
    return ImportReport(
        name, writer.dataset_id, plan.format, writer.images, writer.persons, already,
        tuple((_where(w), why) for w, why in rejected),
    )


def _where(where: str) -> str:
    """'path' or 'path#row' for a rejected file or row (record sources carry a
    'format:' prefix)."""
    fmt, sep, rest = where.partition(":")
    return rest if sep and fmt in readable() else where


def _dataset_id(project: Project, name: str) -> int | None:
    try:
        return get_dataset(project, name).id
    except StoreError:
        return None
