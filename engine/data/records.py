"""The person record every dataset format reads into and writes from.

A ``PersonSample`` is one person in one image: where the image is, a box, COCO-17
keypoints, and whatever 3D labels the source has. The record is immutable and checked
when it is built; its arrays are float32 copies marked read-only.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from engine.data.masks import PNG_SIGNATURE
from engine.errors import DataError, ShapeError

LABEL_KINDS = ("gt", "pseudo")
# Largest pixel coordinate of a box or keypoint: images have at most 100 megapixels
# (engine.image_io), so no side exceeds 1e7 px; a SPIN scale of 1e30 gave boxes of 1e32.
MAX_PIXEL_COORD = 1e7


def _float_array(name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ShapeError(f"{name}: not an array of numbers ({exc})") from None
    if arr.dtype.kind not in "fiub":
        raise ShapeError(f"{name}: expected numbers, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ShapeError(f"{name}: expected shape {shape}, got {arr.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.array(arr, dtype=np.float32, copy=True)
    if not np.isfinite(out).all():
        raise ShapeError(f"{name}: has non-finite values (NaN, inf, or too large for float32)")
    out.setflags(write=False)
    return out


def _optional(name: str, value: object, shape: tuple[int, ...]) -> np.ndarray | None:
    return None if value is None else _float_array(name, value, shape)


def _extra(value: object) -> Mapping[str, np.ndarray]:
    if not isinstance(value, Mapping):
        raise ShapeError(f"extra: expected a mapping of name to array, got {type(value).__name__}")
    out: dict[str, np.ndarray] = {}
    for key, v in value.items():
        if not isinstance(key, str):
            raise ShapeError(f"extra: keys must be strings, got {key!r}")
        arr = np.array(v, copy=True)
        if arr.dtype.kind in "OV":
            raise ShapeError(f"extra[{key!r}]: dtype {arr.dtype} cannot be stored without pickle")
        arr.setflags(write=False)
        out[key] = arr
    return MappingProxyType(out)


@dataclass(frozen=True, eq=False)
class PersonSample:
    """One person in one image.

    image_path: the image file; readers resolve relative paths against the annotation
        file's folder (or the image root they are given), writers store it as given.
    box: (4,) float32, x0, y0, x1, y1 in pixels, x1 > x0 and y1 > y0.
    keypoints: (17, 3) float32, COCO-17 order (``joint_sets.COCO17_NAMES``): x, y in
        pixels and a confidence in [0, 1]; a missing point has confidence 0.
    pose: (72,) float32 SMPL axis-angle, radians: global orientation (3) then 23 body
        joints, camera-oriented (OpenCV frame: x right, y down, z forward).
    betas: (10,) float32 shape coefficients.
    joints3d: (24, 4) float32, SPIN-24 order (``joint_sets.SPIN24_NAMES``), metres and a
        confidence, as SPIN's ``S``.
    camera: (3,) float32 weak-perspective (s, tx, ty), s > 0, for the square crop of side
        max(w, h) centred on ``box`` (see ``engine.body.projection``).
    label_kind: 'gt' (measured or fitted to ground truth), 'pseudo' (predicted by a
        model), or None when unknown or when the record has no 3D label.
    source: where the record came from, e.g. 'spin:/data/coco.npz#12'.
    world_landmarks: (33, 3) float32 BlazePose world landmarks from the pose detector,
        metres, origin at the hip midpoint, camera axes (x right, y down, z away).
    landmark_visibility, landmark_presence: (33,) float32 in [0, 1], the detector's
        probability that each landmark is visible / inside its crop.
    mask: the detector's person mask as 8-bit greyscale PNG bytes of the probability over
        the whole image (``engine.data.masks``).
    extra: values of the source file the fields above do not hold exactly (other keys,
        joints outside COCO-17, full-precision originals), kept so that writing the record
        back gives the file it came from. The fields are authoritative: a writer uses an
        ``extra`` value only while it still agrees with them.

    Raises (on construction):
        ShapeError: a field has the wrong shape, is not numeric, or is not finite.
        DataError: a value is out of range (empty box, confidence, visibility or presence
            outside [0, 1], camera scale <= 0, unknown label kind, empty image path, a
            mask that is not PNG bytes).
    """

    image_path: str
    box: np.ndarray
    keypoints: np.ndarray
    pose: np.ndarray | None = None
    betas: np.ndarray | None = None
    joints3d: np.ndarray | None = None
    camera: np.ndarray | None = None
    label_kind: str | None = None
    source: str = ""
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    world_landmarks: np.ndarray | None = None
    landmark_visibility: np.ndarray | None = None
    landmark_presence: np.ndarray | None = None
    mask: bytes | None = None

    def __post_init__(self) -> None:
        path = self.image_path
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if not isinstance(path, str) or not path:
            raise DataError(f"image_path: expected a non-empty path, got {self.image_path!r}")
        set_ = object.__setattr__
        set_(self, "image_path", path)
        box = _float_array("box", self.box, (4,))
        if not (box[2] > box[0] and box[3] > box[1]):
            raise DataError(f"box: x1 > x0 and y1 > y0 required, got {box.tolist()}")
        if np.abs(box).max() > MAX_PIXEL_COORD:
            raise DataError(f"box: {box.tolist()} reaches beyond {MAX_PIXEL_COORD:.0e} px (a scale or bbox "
                            "far too large)")
        set_(self, "box", box)
        kp = _float_array("keypoints", self.keypoints, (17, 3))
        if kp[:, 2].min() < 0 or kp[:, 2].max() > 1:
            raise DataError("keypoints: confidence must be in [0, 1]")
        if np.abs(kp[:, :2]).max() > MAX_PIXEL_COORD:
            raise DataError(f"keypoints: a position reaches beyond {MAX_PIXEL_COORD:.0e} px")
        set_(self, "keypoints", kp)
        set_(self, "pose", _optional("pose", self.pose, (72,)))
        set_(self, "betas", _optional("betas", self.betas, (10,)))
        set_(self, "joints3d", _optional("joints3d", self.joints3d, (24, 4)))
        cam = _optional("camera", self.camera, (3,))
        if cam is not None and not cam[0] > 0:
            raise DataError(f"camera: scale s must be > 0, got {float(cam[0])}")
        set_(self, "camera", cam)
        if self.label_kind is not None and self.label_kind not in LABEL_KINDS:
            raise DataError(f"label_kind: expected one of {LABEL_KINDS} or None, got {self.label_kind!r}")
        if not isinstance(self.source, str):
            raise DataError(f"source: expected a string, got {type(self.source).__name__}")
        set_(self, "extra", _extra(self.extra))
        set_(self, "world_landmarks", _optional("world_landmarks", self.world_landmarks, (33, 3)))
        for name in ("landmark_visibility", "landmark_presence"):
            arr = _optional(name, getattr(self, name), (33,))
            if arr is not None and (arr.min() < 0 or arr.max() > 1):
                raise DataError(f"{name}: values must be in [0, 1]")
            set_(self, name, arr)
        if self.mask is not None:
            if not isinstance(self.mask, (bytes, bytearray)) or not bytes(self.mask[:8]) == PNG_SIGNATURE:
                raise DataError("mask: expected PNG bytes (engine.data.masks.encode_mask)")
            set_(self, "mask", bytes(self.mask))

    @property
    def crop_square(self) -> tuple[np.ndarray, float]:
        """Centre (2,) float64 px and side (px) of the square of side max(w, h) on the box."""
        x0, y0, x1, y1 = (float(v) for v in self.box)
        return np.array([(x0 + x1) / 2, (y0 + y1) / 2]), max(x1 - x0, y1 - y0)

    def replace(self, **changes: Any) -> "PersonSample":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def equals(self, other: "PersonSample") -> bool:
        """True when every field, ``extra`` included, holds the same values."""
        if not isinstance(other, PersonSample):
            return False
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "extra":
                if a.keys() != b.keys() or not all(same_array(a[k], b[k]) for k in a):
                    return False
            elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if not same_array(a, b):
                    return False
            elif a != b:
                return False
        return True


def same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Same shape, dtype and values (NaN equal to NaN); None only equals None."""
    if a is None or b is None:
        return a is None and b is None
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def resolve_image_path(name: str, root: str | Path) -> str:
    """An absolute, normalised path for an image named relative to ``root``."""
    name = os.path.expanduser(name)
    if not os.path.isabs(name):
        name = os.path.join(os.path.abspath(root), name)
    return os.path.normpath(name)


@dataclass(frozen=True)
class AnnotationFile:
    """What a reader got out of one annotation file.

    path: the file read. format: 'spin', 'prohmr' or 'coco'.
    records: the rows that make valid records, in file order.
    rejected: (where, reason) for each row that does not, where is 'path#row'.
    file_extras: values that belong to the file rather than to a row (COCO's
        categories, an npz key without one entry per row); pass them back to the
        format's writer for an exact round trip.
    """

    path: str
    format: str
    records: tuple[PersonSample, ...]
    rejected: tuple[tuple[str, str], ...] = ()
    file_extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadResult:
    """Records from one or more sources, and what could not be imported.

    rejected: (where, reason) pairs: a whole file ('path') or one row ('path#row') that
        was skipped, with a one-line reason a user can act on.
    """

    records: list[PersonSample]
    rejected: list[tuple[str, str]]


def is_finite_number(x: object) -> bool:
    """A real, finite number (bools excluded)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def reason(where: str | Path, exc: Exception) -> str:
    """An error's message without its leading 'path: ', for a (where, reason) pair."""
    msg = str(exc)
    prefix = f"{where}: "
    return msg[len(prefix):] if msg.startswith(prefix) else msg
