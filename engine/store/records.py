"""Frozen, session-free copies of rows, handed to callers (the GUI, the CLI, jobs).

Arrays are decoded from their blobs; times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, overload

import numpy as np

from engine.store import schema as s
from engine.store.blobs import blob_to_array

ImageStatus = Literal["unsampled", "sampled", "paired", "reviewed"]


def _maybe(blob: bytes | None, shape: tuple[int, ...]) -> np.ndarray | None:
    return None if blob is None else blob_to_array(blob, shape)


@overload
def utc(value: datetime) -> datetime: ...


@overload
def utc(value: None) -> None: ...


def utc(value: datetime | None) -> datetime | None:
    """A naive UTC timestamp from SQLite, made aware."""
    return None if value is None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DatasetRecord:
    id: int
    name: str
    format: str
    source_path: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: s.Dataset) -> DatasetRecord:
        return cls(row.id, row.name, row.format, row.source_path, utc(row.created_at))


@dataclass(frozen=True)
class ImageRecord:
    """An image; ``status`` is where it stands in review (see ``list_images``)."""

    id: int
    dataset_id: int
    path: str
    sha256: str | None
    width: int | None
    height: int | None
    status: ImageStatus

    @classmethod
    def of(cls, row: s.Image, status: ImageStatus) -> ImageRecord:
        return cls(row.id, row.dataset_id, row.path, row.sha256, row.width, row.height, status)


@dataclass(frozen=True, eq=False)
class PersonRecord:
    """A person in an image.

    box: (x0, y0, x1, y1) pixels. keypoints: (17, 3) float32, COCO-17 (x, y) pixels and
    confidence. label_params: (D,) float32 pseudo-label or None. joints3d: (J, 3) float32
    metres or None. The pose detector's outputs, None for persons it did not find:
    landmarks (33, 4) float32 BlazePose x, y, z px and confidence; world_landmarks
    (33, 3) float32 metres, hip-midpoint origin, camera axes; landmark_visibility and
    landmark_presence (33,) float32 in [0, 1]; mask: PNG bytes of the person probability
    over the image (``engine.data.masks.decode_mask``); detection_score in [0, 1].
    """

    id: int
    image_id: int
    box: tuple[float, float, float, float]
    keypoints: np.ndarray
    label_params: np.ndarray | None
    label_source: str | None
    has_3d: bool
    joints3d: np.ndarray | None
    landmarks: np.ndarray | None = None
    world_landmarks: np.ndarray | None = None
    landmark_visibility: np.ndarray | None = None
    landmark_presence: np.ndarray | None = None
    mask: bytes | None = None
    detection_score: float | None = None

    @classmethod
    def of(cls, row: s.Person) -> PersonRecord:
        return cls(
            row.id,
            row.image_id,
            (row.x0, row.y0, row.x1, row.y1),
            blob_to_array(row.keypoints, (17, 3)),
            None if row.label_params is None else blob_to_array(row.label_params),
            row.label_source,
            row.has_3d,
            None if row.joints3d is None else blob_to_array(row.joints3d, (-1, 3)),
            _maybe(row.landmarks, (33, 4)),
            _maybe(row.world_landmarks, (33, 3)),
            _maybe(row.landmark_visibility, (33,)),
            _maybe(row.landmark_presence, (33,)),
            row.mask,
            row.detection_score,
        )


@dataclass(frozen=True)
class CheckpointRecord:
    id: int
    kind: str
    path: str
    sha256: str
    parent_id: int | None
    config: dict[str, Any]
    metrics: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, row: s.Checkpoint) -> CheckpointRecord:
        return cls(
            row.id,
            row.kind,
            row.path,
            row.sha256,
            row.parent_id,
            dict(row.config),
            dict(row.metrics),
            utc(row.created_at),
        )


@dataclass(frozen=True)
class SampleRunRecord:
    """M hypotheses sampled for one person with one checkpoint, seed and step count.

    fit_start: the level the samples started from the person's body fit at
    (``SampleSettings.fit_start``; 0 = from noise), None for runs stored before it was
    recorded (sampled from noise).
    """

    id: int
    person_id: int
    checkpoint_id: int | None
    seed: int
    m: int
    steps: int
    created_at: datetime
    fit_start: float | None = None

    @classmethod
    def of(cls, row: s.SampleRun) -> SampleRunRecord:
        return cls(
            row.id,
            row.person_id,
            row.checkpoint_id,
            row.seed,
            row.m,
            row.steps,
            utc(row.created_at),
            row.fit_start,
        )


@dataclass(frozen=True, eq=False)
class CandidateRecord:
    """One hypothesis. params: (D,) float32. errors: {metric name: value} against the
    person's 3D label (``engine.metric_registry``; mm for the built-in ones), empty
    without a label."""

    id: int
    run_id: int
    index: int
    params: np.ndarray
    score: float | None
    errors: Mapping[str, float]

    def error(self, name: str) -> float | None:
        """The error called ``name`` ('mpjpe', ...), None where it was not computed."""
        return self.errors.get(name)

    @classmethod
    def of(cls, row: s.Candidate) -> CandidateRecord:
        errors = {k: float(v) for k, v in (row.errors or {}).items() if v is not None}
        return cls(row.id, row.run_id, row.idx, blob_to_array(row.params), row.score, MappingProxyType(errors))


@dataclass(frozen=True)
class PairRecord:
    id: int
    person_id: int
    winner_id: int
    loser_id: int
    source: str
    status: str
    margin: float | None
    who: str | None
    decided_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: s.Pair) -> PairRecord:
        return cls(
            row.id,
            row.person_id,
            row.winner_id,
            row.loser_id,
            row.source,
            row.status,
            row.margin,
            row.who,
            utc(row.decided_at),
            utc(row.created_at),
        )


@dataclass(frozen=True)
class CleaningRunRecord:
    id: int
    dataset_id: int
    checkpoint_id: int | None
    keep_fraction: float | None
    threshold: float | None
    created_at: datetime

    @classmethod
    def of(cls, row: s.CleaningRun) -> CleaningRunRecord:
        return cls(
            row.id,
            row.dataset_id,
            row.checkpoint_id,
            row.keep_fraction,
            row.threshold,
            utc(row.created_at),
        )


@dataclass(frozen=True)
class CleaningDecisionRecord:
    """The scorer's keep/drop call on one pseudo-label, and the user's override if any."""

    id: int
    run_id: int
    person_id: int
    score: float
    auto_keep: bool
    override: bool | None
    who: str | None
    decided_at: datetime | None

    @property
    def keep(self) -> bool:
        return self.auto_keep if self.override is None else self.override

    @classmethod
    def of(cls, row: s.CleaningDecision) -> CleaningDecisionRecord:
        return cls(
            row.id,
            row.run_id,
            row.person_id,
            row.score,
            row.auto_keep,
            row.override,
            row.who,
            utc(row.decided_at),
        )


@dataclass(frozen=True)
class JobRecord:
    """A job row. status: queued, running, cancel_requested, done, failed, cancelled, or
    crashed (derived by ``engine.jobs``: running, but its process is gone)."""

    id: int
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    log: str
    outputs: dict[str, Any] | None
    error: str | None
    attempts: int
    pid: int | None
    host: str | None
    heartbeat: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, row: s.Job) -> JobRecord:
        return cls(
            row.id,
            row.kind,
            dict(row.params),
            row.status,
            row.progress,
            row.message,
            row.log,
            row.outputs,
            row.error,
            row.attempts,
            row.pid,
            row.host,
            utc(row.heartbeat),
            utc(row.created_at),
            utc(row.started_at),
            utc(row.finished_at),
        )


@dataclass(frozen=True)
class ActionRecord:
    """One manual decision in the undo history (values are the changed columns)."""

    id: int
    table_name: str
    row_id: int
    op: str
    old_value: dict[str, Any] | None
    new_value: dict[str, Any]
    undone: bool
    who: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: s.Action) -> ActionRecord:
        return cls(
            row.id,
            row.table_name,
            row.row_id,
            row.op,
            row.old_value,
            row.new_value,
            row.undone,
            row.who,
            utc(row.created_at),
        )
