"""ProHMR-style ``.npz`` annotation files.

Keys, one row per person: ``imgname`` (N,), ``center`` (N, 2) px, ``scale`` (N,) or
(N, 2) = box side / 200 (the larger side is used), ``body_pose`` (N, 72) SMPL axis-angle
with the global orientation first -- or (N, 69) next to ``global_orient`` (N, 3) --,
``has_body_pose`` (N,), ``betas`` (N, 10), ``has_betas`` (N,), ``body_keypoints_2d``
(N, 25, 3) in OpenPose BODY_25 order, ``extra_keypoints_2d`` (N, 19, 3) = the first 19
SPIN-24 joints, ``body_keypoints_3d`` (N, 25, 4), ``extra_keypoints_3d`` (N, 19, 4).
This project adds ``label_kind``, ``camera`` and ``has_camera`` as in SPIN files.

COCO-17 keypoints: the limb joints come from ``extra_keypoints_2d`` (ground truth in
ProHMR's files) where their confidence is above 0, otherwise from
``body_keypoints_2d`` (OpenPose detections), which also gives the face points.
3D joints: SPIN-24 from ``extra_keypoints_3d`` (joints 0-18) and the face points of
``body_keypoints_3d`` (19-23). Round trips are exact (see ``npz_columns``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from engine.data.joint_sets import COCO17_FROM_OPENPOSE25, COCO17_FROM_SPIN24, SPIN24_FACE_FROM_OPENPOSE25
from engine.data.detector_columns import NPZ_GROUP as DETECTOR_OUTPUTS
from engine.data.npz_columns import (
    BOX, CAMERA, IMAGE, LABEL_KIND, SCALE_SHAPES, TEXT, Context, Group, NpzFormat, Row,
    keep_unchanged, read_flagged, read_npz, write_npz,
)
from engine.data.records import AnnotationFile, PersonSample
from engine.errors import DataError

_OP = np.array(COCO17_FROM_OPENPOSE25)
_SPIN = np.array(COCO17_FROM_SPIN24)
# COCO-17 joints that ProHMR's 19 extra keypoints hold (all but the face).
_LIMB = _SPIN < 19
_FACE = list(SPIN24_FACE_FROM_OPENPOSE25)


def _read_keypoints(row: Row, ctx: Context) -> dict[str, Any]:
    kp = np.zeros((17, 3))
    body, extra = row.get("body_keypoints_2d"), row.get("extra_keypoints_2d")
    if body is not None:
        kp[:] = body[_OP]
    if extra is not None:
        limb = extra[_SPIN[_LIMB]]
        use = limb[:, 2] > 0
        kp[np.flatnonzero(_LIMB)[use]] = limb[use]
    kp[:, 2] = np.clip(kp[:, 2], 0.0, 1.0)
    return {"keypoints": kp}


def _base(base: Row, key: str, shape: tuple[int, ...]) -> np.ndarray:
    v = base.get(key)
    if v is None or v.shape != shape:
        return np.zeros(shape, np.float32)
    return np.array(v, dtype=np.result_type(v.dtype, np.float32))


def _write_keypoints(record: PersonSample, base: Row, ctx: Context) -> Row:
    kp = record.keypoints
    body = _base(base, "body_keypoints_2d", (25, 3))
    extra = _base(base, "extra_keypoints_2d", (19, 3))
    extra[_SPIN[_LIMB]] = keep_unchanged(extra[_SPIN[_LIMB]], kp[_LIMB])
    # Face points, and limb points without confidence (which the reader takes from the
    # body keypoints), live in the body keypoints.
    to_body = ~_LIMB | (kp[:, 2] == 0)
    body[_OP[to_body]] = keep_unchanged(body[_OP[to_body]], kp[to_body])
    return {"body_keypoints_2d": body, "extra_keypoints_2d": extra}


def _read_pose(row: Row, ctx: Context) -> dict[str, Any]:
    if "body_pose" not in row:
        return {}
    bp = row["body_pose"]
    if bp.shape == (69,):
        if "global_orient" not in row:
            raise DataError("body_pose has 69 values but there is no global_orient")
        bp = np.concatenate([row["global_orient"], bp])
    return read_flagged({"pose": bp, **row}, "pose", "has_body_pose", "pose")


def _write_pose(record: PersonSample, base: Row, ctx: Context) -> Row:
    has = record.pose is not None
    old = base.get("body_pose")
    if old is not None and old.shape == (69,) and "global_orient" in base:
        old = np.concatenate([base["global_orient"], old])
    pose = keep_unchanged(old, record.pose) if record.pose is not None else np.zeros(72, np.float32)
    if ctx.flags.get("pose69"):
        return {"global_orient": pose[:3], "body_pose": pose[3:], "has_body_pose": np.asarray(has, np.float32)}
    return {"body_pose": pose, "has_body_pose": np.asarray(has, np.float32)}


def _write_betas(record: PersonSample, base: Row, ctx: Context) -> Row:
    has = record.betas is not None
    betas = keep_unchanged(base.get("betas"), record.betas) if record.betas is not None else np.zeros(10, np.float32)
    return {"betas": betas, "has_betas": np.asarray(has, np.float32)}


def _read_joints3d(row: Row, ctx: Context) -> dict[str, Any]:
    joints = np.zeros((24, 4))
    if "extra_keypoints_3d" in row:
        joints[:19] = row["extra_keypoints_3d"]
    if "body_keypoints_3d" in row:
        joints[19:] = row["body_keypoints_3d"][_FACE]
    return {"joints3d": joints if np.any(joints != 0) else None}


def _write_joints3d(record: PersonSample, base: Row, ctx: Context) -> Row:
    j = record.joints3d if record.joints3d is not None else np.zeros((24, 4), np.float32)
    body = _base(base, "body_keypoints_3d", (25, 4))
    body[_FACE] = keep_unchanged(body[_FACE], j[19:])
    extra = keep_unchanged(base.get("extra_keypoints_3d"), j[:19])
    return {"body_keypoints_3d": body, "extra_keypoints_3d": extra}


def _file_flags(path: str, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    bp = arrays.get("body_pose")
    pose69 = bp is not None and bp.shape[1:] == (69,)
    if pose69 and "global_orient" not in arrays:
        raise DataError(f"{path}: 'body_pose' has 69 values per row but there is no 'global_orient'")
    return {"pose69": pose69}


def _write_flags(records: Sequence[PersonSample]) -> dict[str, Any]:
    return {"pose69": any(r.extra.get("body_pose", np.zeros(0)).shape == (69,) for r in records)}


PROHMR = NpzFormat(
    name="prohmr",
    required=("imgname", "center", "scale"),
    shapes={
        "imgname": TEXT, "center": (2,), "scale": SCALE_SHAPES, "body_pose": [(72,), (69,)],
        "global_orient": (3,), "has_body_pose": (), "betas": (10,), "has_betas": (),
        "body_keypoints_2d": (25, 3), "extra_keypoints_2d": (19, 3),
        "body_keypoints_3d": (25, 4), "extra_keypoints_3d": (19, 4),
        "label_kind": TEXT, "camera": (3,), "has_camera": (),
    },
    groups=(
        IMAGE,
        BOX,
        Group(("body_keypoints_2d", "extra_keypoints_2d"), _read_keypoints, _write_keypoints),
        Group(("body_pose", "global_orient", "has_body_pose"), _read_pose, _write_pose,
              lambda r: r.pose is not None),
        Group(("betas", "has_betas"), lambda row, ctx: read_flagged(row, "betas", "has_betas", "betas"),
              _write_betas, lambda r: r.betas is not None),
        Group(("body_keypoints_3d", "extra_keypoints_3d"), _read_joints3d, _write_joints3d,
              lambda r: r.joints3d is not None),
        LABEL_KIND,
        CAMERA,
        DETECTOR_OUTPUTS,
    ),
    file_flags=_file_flags,
    write_flags=_write_flags,
)


def read_prohmr_npz(
    path: str | Path, image_root: str | Path | None = None, label_kind: str | None = None
) -> AnnotationFile:
    """Read a ProHMR-style npz (keys in the module docstring).

    image_root: folder the ``imgname`` entries are relative to (default: the file's).
    label_kind: 'gt' or 'pseudo' for rows with a body pose and no ``label_kind`` key.

    Raises:
        DataError: unreadable file, missing ``imgname``/``center``/``scale``, a key of the
            wrong shape or dtype, or a 69-value ``body_pose`` without ``global_orient``.
            Rows with bad values are rejected, not raised.
    """
    return read_npz(path, PROHMR, image_root, label_kind)


def write_prohmr_npz(
    path: str | Path,
    records: Sequence[PersonSample],
    file_extras: Mapping[str, np.ndarray] | None = None,
    image_root: str | Path | None = None,
) -> None:
    """Write records as a ProHMR-style npz; ``read_prohmr_npz`` gives them back.

    ``body_pose`` is written with 72 values unless the records came from a file that
    kept the global orientation apart (69 + ``global_orient``).
    """
    write_npz(path, records, PROHMR, file_extras, image_root)
