"""Tables of imported data and trained models: datasets, images, persons, checkpoints.

Array columns hold little-endian float32 bytes (see ``engine.store.blobs``):
``persons.keypoints`` (17, 3) COCO-17 (x, y) in image pixels and a confidence in [0, 1];
``persons.label_params`` (D,) a pseudo-label in the diffused parameter layout;
``persons.joints3d`` (J, 3) metres, root-relative; the detector's outputs (revision 0003,
all optional): ``persons.landmarks`` (33, 4) BlazePose x, y, z px and confidence,
``persons.world_landmarks`` (33, 3) metres, ``persons.landmark_visibility`` and
``persons.landmark_presence`` (33,), ``persons.mask`` an 8-bit PNG of the person
probability over the image (``engine.data.masks``), ``persons.detection_score``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.schema.base import CHECKPOINT_KINDS, Base, one_of, utcnow


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    format: Mapped[str] = mapped_column(String)
    source_path: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (UniqueConstraint("dataset_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String)
    sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    x0: Mapped[float]
    y0: Mapped[float]
    x1: Mapped[float]
    y1: Mapped[float]
    keypoints: Mapped[bytes] = mapped_column(LargeBinary)
    label_params: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_source: Mapped[str | None] = mapped_column(String)
    has_3d: Mapped[bool] = mapped_column(default=False)
    joints3d: Mapped[bytes | None] = mapped_column(LargeBinary)
    landmarks: Mapped[bytes | None] = mapped_column(LargeBinary)
    world_landmarks: Mapped[bytes | None] = mapped_column(LargeBinary)
    landmark_visibility: Mapped[bytes | None] = mapped_column(LargeBinary)
    landmark_presence: Mapped[bytes | None] = mapped_column(LargeBinary)
    mask: Mapped[bytes | None] = mapped_column(LargeBinary)
    detection_score: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Checkpoint(Base):
    __tablename__ = "checkpoints"
    __table_args__ = (one_of("kind", CHECKPOINT_KINDS, "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    path: Mapped[str] = mapped_column(String)
    sha256: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id", ondelete="SET NULL"))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
