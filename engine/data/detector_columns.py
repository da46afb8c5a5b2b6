"""The pose detector's per-person outputs in dataset files, all optional.

npz (SPIN and ProHMR styles): ``world_landmarks`` (N, 33, 3) metres,
``landmark_visibility`` and ``landmark_presence`` (N, 33), ``mask_png`` (N,) bytes (an
8-bit greyscale PNG of the person probability over the image, ``engine.data.masks``). A
row without them holds zeros (empty bytes for the mask), read back as absent.
COCO JSON: the same names as optional annotation fields (nested lists), the mask as
``mask_png`` in base64.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Mapping

import numpy as np

from engine.data.npz_columns import Context, Group, Row
from engine.data.records import PersonSample
from engine.errors import DataError

ARRAYS = ("world_landmarks", "landmark_visibility", "landmark_presence")
MASK_KEY = "mask_png"


def has_outputs(record: PersonSample) -> bool:
    return record.mask is not None or any(getattr(record, k) is not None for k in ARRAYS)


def _read_npz(row: Row, ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in ARRAYS:
        if k in row and np.any(row[k]):
            out[k] = row[k]
    if MASK_KEY in row:
        raw = row[MASK_KEY].item() if isinstance(row[MASK_KEY], np.ndarray) else row[MASK_KEY]
        if not isinstance(raw, bytes):
            raise DataError(f"{MASK_KEY}: expected PNG bytes, got {type(raw).__name__}")
        if raw:
            out["mask"] = raw
    return out


def _write_npz(record: PersonSample, base: Row, ctx: Context) -> Row:
    out: Row = {k: getattr(record, k) for k in ARRAYS if getattr(record, k) is not None}
    if record.mask is not None:
        out[MASK_KEY] = np.array(record.mask, dtype=np.bytes_)
    return out


NPZ_GROUP = Group((*ARRAYS, MASK_KEY), _read_npz, _write_npz, has_outputs)
"""Add to an ``NpzFormat``'s groups to read and write the detector's outputs."""


def coco_fields(record: PersonSample) -> dict[str, Any]:
    """The record's detector outputs as COCO annotation fields."""
    out: dict[str, Any] = {
        k: np.asarray(getattr(record, k), float).round(5).tolist() for k in ARRAYS if getattr(record, k) is not None
    }
    if record.mask is not None:
        out[MASK_KEY] = base64.b64encode(record.mask).decode("ascii")
    return out


def from_coco(ann: Mapping[str, Any]) -> dict[str, Any]:
    """PersonSample fields from a COCO annotation's optional detector fields.

    Raises DataError for a mask that is not base64 text (shapes are checked by the record).
    """
    out: dict[str, Any] = {k: np.asarray(ann[k], dtype=float) for k in ARRAYS if ann.get(k) is not None}
    mask = ann.get(MASK_KEY)
    if mask is not None:
        try:
            out["mask"] = base64.b64decode(str(mask), validate=True)
        except (binascii.Error, ValueError):
            raise DataError(f"{MASK_KEY}: not base64 text") from None
    return out
