"""Datasets, images and persons: what an importer writes and the review screens list.

An image's review status is derived, never stored:
unsampled (no sample run for any of its persons), sampled (runs, no pairs yet),
paired (pairs, some still proposed), reviewed (pairs, none left proposed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy import and_, case, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from engine.errors import ShapeError, StoreError
from engine.store.blobs import array_to_blob
from engine.store.project import Project
from engine.store.records import DatasetRecord, ImageRecord, ImageStatus, PersonRecord
from engine.store.schema import Dataset, Image, Pair, Person, SampleRun, utcnow
from engine.store.tx import Db, get_row, transaction

# Core INSERTs built once: importers call add_image / add_person per row, and these skip
# the ORM's unit of work; a failed statement leaves the caller's transaction usable.
_INSERT_IMAGE = insert(Image).returning(Image.id)
_INSERT_PERSON = insert(Person).returning(Person.id)

DETECTOR_SHAPES = {
    "landmarks": (33, 4),
    "world_landmarks": (33, 3),
    "landmark_visibility": (33,),
    "landmark_presence": (33,),
}


def detector_outputs(sample: Any) -> dict[str, Any]:
    """``add_person``'s ``detector`` argument from a ``PersonSample`` (its fields, and
    ``extra['landmarks']`` / ``extra['detection_score']`` when it has them)."""
    out: dict[str, Any] = {
        k: getattr(sample, k)
        for k in ("world_landmarks", "landmark_visibility", "landmark_presence", "mask")
        if getattr(sample, k) is not None
    }
    extra = sample.extra
    if "landmarks" in extra and np.shape(extra["landmarks"]) == (33, 4):
        out["landmarks"] = extra["landmarks"]
    if "detection_score" in extra and np.size(extra["detection_score"]) == 1:
        out["detection_score"] = float(np.asarray(extra["detection_score"]).reshape(()))
    return out


IMAGE_STATUSES: tuple[ImageStatus, ...] = ("unsampled", "sampled", "paired", "reviewed")


def add_dataset(db: Db, name: str, format: str, source_path: str | None = None) -> int:
    """A new dataset; ``source_path`` is where its relative image paths start from."""
    with transaction(db) as session:
        if session.scalar(select(Dataset.id).where(Dataset.name == name)) is not None:
            raise StoreError(f"a dataset named {name!r} already exists in this project")
        row = Dataset(name=name, format=format, source_path=source_path)
        session.add(row)
        session.flush()
        return row.id


def get_dataset(db: Db, name_or_id: str | int) -> DatasetRecord:
    """A dataset by name or id; StoreError if there is none."""
    with transaction(db) as session:
        column = Dataset.id if isinstance(name_or_id, int) else Dataset.name
        row = session.scalar(select(Dataset).where(column == name_or_id))
        if row is None:
            raise StoreError(f"no dataset {name_or_id!r} in this project")
        return DatasetRecord.of(row)


def list_datasets(db: Db) -> list[DatasetRecord]:
    with transaction(db) as session:
        return [DatasetRecord.of(r) for r in session.scalars(select(Dataset).order_by(Dataset.id))]


def add_image(
    db: Db,
    dataset_id: int,
    path: str,
    sha256: str | None = None,
    width: int | None = None,
    height: int | None = None,
) -> int:
    """A new image of a dataset; ``path`` may be relative to the dataset's source path."""
    values = {
        "dataset_id": dataset_id,
        "path": str(path),
        "sha256": sha256,
        "width": width,
        "height": height,
        "created_at": utcnow(),
    }
    with transaction(db) as session:
        try:
            return session.connection().execute(_INSERT_IMAGE, values).scalar_one()
        except IntegrityError:
            raise StoreError(
                f"image {path!r} is already in dataset {dataset_id}, or the dataset does not exist"
            ) from None


def _checked(a: ArrayLike | None, shape: tuple[int, ...], name: str) -> bytes | None:
    if a is None:
        return None
    arr = np.asarray(a)
    if arr.ndim != len(shape) or any(
        want not in (-1, got) for want, got in zip(shape, arr.shape, strict=True)
    ):
        raise ShapeError(f"{name}: expected shape {shape}, got {arr.shape}")
    return array_to_blob(arr, name)


def add_person(
    db: Db,
    image_id: int,
    box: Sequence[float] | np.ndarray,
    keypoints: ArrayLike,
    label_params: ArrayLike | None = None,
    label_source: str | None = None,
    joints3d: ArrayLike | None = None,
    detector: Mapping[str, Any] | None = None,
) -> int:
    """A person in an image.

    box: (x0, y0, x1, y1) pixels. keypoints: (17, 3) COCO-17 (x, y) pixels and confidence.
    label_params: (D,) pseudo-label parameters or None. joints3d: (J, 3) metres or None
    (its presence sets has_3d). detector: the pose detector's outputs for this person,
    any of ``landmarks`` (33, 4), ``world_landmarks`` (33, 3), ``landmark_visibility``
    and ``landmark_presence`` (33,), ``mask`` (PNG bytes), ``detection_score`` (see
    :func:`detector_outputs`).
    """
    extra = dict(detector or {})
    unknown = set(extra) - set(DETECTOR_SHAPES) - {"mask", "detection_score"}
    if unknown:
        raise ShapeError(f"detector: unknown output(s) {', '.join(sorted(unknown))}")
    mask = extra.get("mask")
    if mask is not None and not isinstance(mask, (bytes, bytearray)):
        raise ShapeError(f"mask: expected PNG bytes, got {type(mask).__name__}")
    score = extra.get("detection_score")
    if len(box) != 4 or not np.isfinite(np.asarray(box, dtype=float)).all():
        raise ShapeError(f"box: expected 4 finite numbers (x0, y0, x1, y1), got {box!r}")
    x0, y0, x1, y1 = (float(v) for v in box)
    values = dict(
        image_id=image_id,
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        keypoints=_checked(keypoints, (17, 3), "keypoints"),
        label_params=_checked(label_params, (-1,), "label_params"),
        label_source=label_source,
        has_3d=joints3d is not None,
        joints3d=_checked(joints3d, (-1, 3), "joints3d"),
        **{k: _checked(extra.get(k), shape, k) for k, shape in DETECTOR_SHAPES.items()},
        mask=None if mask is None else bytes(mask),
        detection_score=None if score is None else float(score),
        created_at=utcnow(),
    )
    with transaction(db) as session:
        try:
            return session.connection().execute(_INSERT_PERSON, values).scalar_one()
        except IntegrityError:
            raise StoreError(f"no images row with id {image_id}") from None


def get_person(db: Db, person_id: int) -> PersonRecord:
    with transaction(db) as session:
        return PersonRecord.of(get_row(session, Person, person_id))


def persons_of_image(db: Db, image_id: int) -> list[PersonRecord]:
    with transaction(db) as session:
        rows = session.scalars(
            select(Person).where(Person.image_id == image_id).order_by(Person.id)
        )
        return [PersonRecord.of(r) for r in rows]


def _status_column():
    of_image = Person.image_id == Image.id
    has_run = exists().where(and_(SampleRun.person_id == Person.id, of_image))
    has_pair = exists().where(and_(Pair.person_id == Person.id, of_image))
    has_open = exists().where(
        and_(Pair.person_id == Person.id, Pair.status == "proposed", of_image)
    )
    return case(
        (has_open, "paired"),
        (has_pair, "reviewed"),
        (has_run, "sampled"),
        else_="unsampled",
    ).label("status")


def list_images(
    db: Db,
    dataset_id: int | None = None,
    status: ImageStatus | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[ImageRecord]:
    """Images in id order, optionally of one dataset and one review status."""
    if status is not None and status not in IMAGE_STATUSES:
        raise StoreError(f"unknown image status {status!r}, expected one of {IMAGE_STATUSES}")
    status_col = _status_column()
    query = select(Image, status_col).order_by(Image.id).offset(offset).limit(limit)
    if dataset_id is not None:
        query = query.where(Image.dataset_id == dataset_id)
    if status is not None:
        query = query.where(status_col == status)
    with transaction(db) as session:
        return [ImageRecord.of(row, st) for row, st in session.execute(query)]


def count_images_by_status(db: Db, dataset_id: int | None = None) -> dict[ImageStatus, int]:
    """How many images stand at each review status (every status present, maybe 0)."""
    status_col = _status_column()
    inner = select(status_col).select_from(Image)
    if dataset_id is not None:
        inner = inner.where(Image.dataset_id == dataset_id)
    sub = inner.subquery()
    counts = {st: 0 for st in IMAGE_STATUSES}
    with transaction(db) as session:
        for st, n in session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)):
            counts[st] = n
    return counts


def image_files(
    project: Project, dataset_id: int, missing_hash: bool = False
) -> list[tuple[int, Path]]:
    """(image id, file on disk) of a dataset in id order; relative paths are resolved
    against the dataset's source path. missing_hash: only images without a content hash."""
    query = select(Image.id, Image.path).where(Image.dataset_id == dataset_id).order_by(Image.id)
    if missing_hash:
        query = query.where(Image.sha256.is_(None))
    with project.session() as session:
        source = get_row(session, Dataset, dataset_id).source_path
        return [(i, project.resolve(p, source)) for i, p in session.execute(query)]


def record_image_hashes(db: Db, hashes: Mapping[int, str]) -> None:
    """Store content hashes (hex sha256) by image id."""
    with transaction(db) as session:
        for image_id, digest in hashes.items():
            get_row(session, Image, image_id).sha256 = digest
