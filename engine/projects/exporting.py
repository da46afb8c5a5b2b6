"""Exports of a project: preference pairs, cleaning decisions, and (cleaned) datasets.

A dataset is written in its own format (SPIN npz, ProHMR npz, COCO JSON) by default. When
it came from one annotation file that is still there unchanged, that file is read again
and only the rows of the kept persons are written, so nothing the project's tables do not
hold is lost; otherwise records are rebuilt from the tables (``labels.sample_of``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.formats import get_format, writable
from engine.data.records import PersonSample
from engine.errors import DataError, StoreError
from engine.output_files import check_output
from engine.projects.importing import norm_path, sha256_file
from engine.projects.labels import sample_of
from engine.projects.sources import dataset_sources
from engine.store import (
    PersonRecord,
    Project,
    export_cleaning_csv,
    get_cleaning_run,
    get_dataset,
    image_files,
    kept_person_ids,
    persons_of_image,
)
from engine.store.export import TRAINING_STATUSES

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class DatasetExport:
    """What ``export_dataset`` wrote: persons written, of how many, in which format, and
    whether the rows are the source file's own (exact) or rebuilt from the project."""

    path: str
    format: str
    written: int
    total: int
    exact: bool


def export_pairs(
    project: Project, out: str | Path, statuses: Sequence[str] = TRAINING_STATUSES
) -> int:
    """Pairs as JSONL (``.jsonl``) or npz (``.npz``), by the file's suffix, in the format
    ``adhmr dpo --pairs`` reads (``engine.training.pair_io``: each pair with its crop,
    keypoints and parameter layout, absolute image paths); manual decisions merged over
    automatic pairs. Returns the count.
    """
    from engine.projects.pairs import project_pairs
    from engine.training.pair_io import save_pairs

    suffix = Path(out).suffix.lower()
    if suffix not in (".jsonl", ".npz"):
        raise DataError(f"{out}: pairs are written as .jsonl or .npz, not '{suffix}'")
    check_output(out, project_file=project.path, data_dir=project.data_dir)
    pairs = [p for p in project_pairs(project, training_only=False) if p.status in statuses]
    return save_pairs(out, pairs)


def export_cleaning(project: Project, run_id: int, out: str | Path) -> int:
    """A cleaning run's decisions as CSV; returns the count."""
    return export_cleaning_csv(project, run_id, out)


def _persons(project: Project, dataset_id: int) -> list[tuple[str, PersonRecord]]:
    """(absolute image path, PersonRecord) of a dataset, in image then person order."""
    out = []
    files = image_files(project, dataset_id)
    with project.session() as s:
        for image_id, path in files:
            out += [(norm_path(path), p) for p in persons_of_image(s, image_id)]
    return out


def _key(image_path: str, box: np.ndarray) -> tuple[str, bytes]:
    return norm_path(image_path), np.asarray(box, np.float32).tobytes()


def export_dataset(
    project: Project,
    dataset: str | int,
    out: str | Path,
    cleaning_run: int | None = None,
    format: str | None = None,
    image_root: str | Path | None = None,
    job_state: bool = False,
) -> DatasetExport:
    """Write a dataset's persons (those a cleaning run keeps, when given) to ``out``.

    format: 'spin', 'prohmr' or 'coco'; default: the dataset's own (COCO for photos).
    image_root: folder image names are written relative to (default: ``out``'s folder).
    job_state: ``out`` is in a job's own state folder (a training job's copy of a
        dataset), which lies in the data folder that user exports may not write into.
    Raises StoreError for an unknown dataset or a run of another dataset, DataError for a
    format that cannot be chosen.
    """
    ds = get_dataset(project, dataset)
    fmt = format or {"images": "coco"}.get(ds.format, ds.format)
    if fmt not in writable():
        raise DataError(
            f"dataset {ds.name!r} holds {ds.format} data; choose the output format "
            f"({', '.join(writable())})"
        )
    # Never over the project, its data folder, or the annotation file being exported.
    check_output(out, project_file=project.path, data_dir=None if job_state else project.data_dir,
                 inputs=[src.path for src in dataset_sources(project, ds.id)])
    persons = _persons(project, ds.id)
    keep = None
    if cleaning_run is not None:
        run = get_cleaning_run(project, cleaning_run)
        if run.dataset_id != ds.id:
            raise StoreError(f"cleaning run {cleaning_run} is of dataset {run.dataset_id}, not {ds.name!r}")
        keep = set(kept_person_ids(project, cleaning_run))
    kept = [(path, p) for path, p in persons if keep is None or p.id in keep]
    records, extras = _source_records(project, ds.id, fmt, kept)
    exact = records is not None
    if records is None:
        records = [_with_detector_outputs(sample_of(p, path), p) for path, p in kept]
    get_format(fmt).write(out, records, extras, image_root)
    log.info("exported %d of %d persons of %r to %s", len(records), len(persons), ds.name, out)
    return DatasetExport(str(out), fmt, len(records), len(persons), exact)


def _with_detector_outputs(record: PersonSample, person: PersonRecord) -> PersonSample:
    """The record with the pose detector's outputs that the person row holds (the 33
    landmarks and the detection score as extras, as a photo import makes them)."""
    extra = dict(record.extra)
    if person.landmarks is not None:
        extra["landmarks"] = person.landmarks
    if person.detection_score is not None:
        extra["detection_score"] = np.asarray(person.detection_score, np.float32)
    return record.replace(
        world_landmarks=person.world_landmarks,
        landmark_visibility=person.landmark_visibility,
        landmark_presence=person.landmark_presence,
        mask=person.mask,
        extra=extra,
    )


def _source_records(
    project: Project, dataset_id: int, fmt: str, kept: list[tuple[str, PersonRecord]]
) -> tuple[list[PersonSample] | None, dict | None]:
    """The source file's own records of the kept persons, or (None, None) when the source
    is not one unchanged file of ``fmt`` or does not account for every kept person."""
    sources = dataset_sources(project, dataset_id)
    if len(sources) != 1 or sources[0].format != fmt:
        return None, None
    src = sources[0]
    path = Path(src.path)
    if not path.is_file() or sha256_file(path) != src.sha256:
        log.warning("%s changed or is gone since import; exporting from the project instead", path)
        return None, None
    f = get_format(fmt).read(path, src.image_root, None)
    by_key: dict[tuple[str, bytes], list[tuple[int, PersonSample]]] = {}
    for row, r in enumerate(f.records):
        by_key.setdefault(_key(r.image_path, r.box), []).append((row, r))
    chosen = []
    for path_, p in kept:
        match = by_key.get(_key(path_, np.asarray(p.box)))
        if not match:
            return None, None
        chosen.append(match.pop(0))
    # The source file's own row order, whatever order the project holds the persons in.
    return [r for _, r in sorted(chosen, key=lambda c: c[0])], dict(f.file_extras)
