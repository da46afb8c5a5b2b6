"""SPIN-style ``.npz`` annotation files.

A SPIN file holds one row per person: ``imgname`` (N,) image names relative to an image
folder, ``center`` (N, 2) px and ``scale`` (N,) = box side / 200 (a square box),
``part`` (N, 24, 3) SPIN-24 2D joints px + visibility, ``S`` (N, 24, 4) SPIN-24 3D joints
metres + confidence, ``pose`` (N, 72) SMPL axis-angle, ``shape`` (N, 10), ``has_smpl``
(N,), optionally ``openpose`` (N, 25, 3) and ``gender`` (N,). This project adds
``label_kind`` (N,) ('gt', 'pseudo' or '') and ``camera`` (N, 3) + ``has_camera`` (N,)
when its records carry them.

Round trips are exact (see ``npz_columns``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from engine.data.joint_sets import COCO17_FROM_SPIN24
from engine.data.detector_columns import NPZ_GROUP as DETECTOR_OUTPUTS
from engine.data.npz_columns import (
    BOX, CAMERA, IMAGE, LABEL_KIND, SCALE_SHAPES, TEXT, Context, Group, NpzFormat, Row,
    keep_unchanged, read_flagged, read_npz, write_npz,
)
from engine.data.records import AnnotationFile, PersonSample


def _read_part(row: Row, ctx: Context) -> dict[str, Any]:
    kp = np.array(row["part"][list(COCO17_FROM_SPIN24)], dtype=np.float64)
    kp[:, 2] = np.clip(kp[:, 2], 0.0, 1.0)
    return {"keypoints": kp}


def _write_part(record: PersonSample, base: Row, ctx: Context) -> Row:
    part = base.get("part")
    part = np.array(part) if part is not None and part.shape == (24, 3) else np.zeros((24, 3), np.float32)
    idx = list(COCO17_FROM_SPIN24)
    part = part.astype(np.result_type(part.dtype, np.float32))
    part[idx] = keep_unchanged(part[idx], record.keypoints)
    return {"part": part}


def _read_smpl(row: Row, ctx: Context) -> dict[str, Any]:
    out = read_flagged(row, "pose", "has_smpl", "pose")
    out.update(read_flagged(row, "shape", "has_smpl", "betas"))
    return out


def _write_smpl(record: PersonSample, base: Row, ctx: Context) -> Row:
    pose, betas = np.zeros(72, np.float32), np.zeros(10, np.float32)
    if record.pose is not None:
        pose = keep_unchanged(base.get("pose"), record.pose)
    if record.betas is not None:
        betas = keep_unchanged(base.get("shape"), record.betas)
    return {"pose": pose, "shape": betas, "has_smpl": np.asarray(record.pose is not None, np.float32)}


def _read_s(row: Row, ctx: Context) -> dict[str, Any]:
    s = row["S"]
    return {"joints3d": s if np.any(s != 0) else None}


def _write_s(record: PersonSample, base: Row, ctx: Context) -> Row:
    j = record.joints3d
    return {"S": keep_unchanged(base.get("S"), j) if j is not None else np.zeros((24, 4), np.float32)}


SPIN = NpzFormat(
    name="spin",
    required=("imgname", "center", "scale"),
    shapes={
        "imgname": TEXT, "center": (2,), "scale": SCALE_SHAPES, "part": (24, 3), "S": (24, 4),
        "pose": (72,), "shape": (10,), "has_smpl": (), "openpose": (25, 3),
        "label_kind": TEXT, "camera": (3,), "has_camera": (),
    },
    groups=(
        IMAGE,
        BOX,
        Group(("part",), _read_part, _write_part),
        Group(("pose", "shape", "has_smpl"), _read_smpl, _write_smpl,
              lambda r: r.pose is not None or r.betas is not None),
        Group(("S",), _read_s, _write_s, lambda r: r.joints3d is not None),
        LABEL_KIND,
        CAMERA,
        DETECTOR_OUTPUTS,
    ),
)


def read_spin_npz(
    path: str | Path, image_root: str | Path | None = None, label_kind: str | None = None
) -> AnnotationFile:
    """Read a SPIN-style npz (see the module docstring for its keys).

    image_root: folder the ``imgname`` entries are relative to (default: the file's).
    label_kind: 'gt' or 'pseudo' for rows with SMPL parameters and no ``label_kind`` key.

    Returns:
        AnnotationFile with records (box: the square ``center`` +- ``scale`` * 100;
        keypoints: ``part`` through ``COCO17_FROM_SPIN24``, visibility clipped to [0, 1]).

    Raises:
        DataError: unreadable file, missing ``imgname``/``center``/``scale``, or a key of
            the wrong shape or dtype. Rows with bad values are rejected, not raised.
    """
    return read_npz(path, SPIN, image_root, label_kind)


def write_spin_npz(
    path: str | Path,
    records: Sequence[PersonSample],
    file_extras: Mapping[str, np.ndarray] | None = None,
    image_root: str | Path | None = None,
) -> None:
    """Write records as a SPIN-style npz; ``read_spin_npz`` of the result gives them back.

    ``scale`` is max(w, h) / 200 of each box, ``part`` the COCO-17 keypoints placed in
    SPIN-24 order over the record's original ``part`` (zeros elsewhere), ``has_smpl`` 1
    where the record has a pose (SPIN's flag covers pose and shape together).
    """
    write_npz(path, records, SPIN, file_extras, image_root)
