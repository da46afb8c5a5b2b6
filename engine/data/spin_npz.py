"""SPIN-style ``.npz`` annotation files, and the column machinery ProHMR's files share.

A SPIN file holds one row per person: ``imgname`` (N,) image names relative to an image
folder, ``center`` (N, 2) px and ``scale`` (N,) = box side / 200 (a square box),
``part`` (N, 24, 3) SPIN-24 2D joints px + visibility, ``S`` (N, 24, 4) SPIN-24 3D joints
metres + confidence, ``pose`` (N, 72) SMPL axis-angle, ``shape`` (N, 10), ``has_smpl``
(N,), optionally ``openpose`` (N, 25, 3) and ``gender`` (N,). This project adds
``label_kind`` (N,) ('gt', 'pseudo' or '') and ``camera`` (N, 3) + ``has_camera`` (N,)
when its records carry them.

Round trips are exact: every value of a row is kept in the record's ``extra`` (in its
original dtype), and the writer puts a row's original values back for every group of
keys whose record fields still agree with them; only edited groups are re-derived.
Keys without one entry per row come back as ``file_extras``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from engine.data.joint_sets import COCO17_FROM_SPIN24
from engine.data.records import AnnotationFile, PersonSample, resolve_image_path
from engine.errors import AdhmrError, DataError

log = logging.getLogger(__name__)

Row = dict[str, np.ndarray]
TEXT = "text"


@dataclass
class Context:
    """What a group needs besides the row: the image root, and file-wide layout flags."""

    root: str
    flags: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Group:
    """File keys that together make some record fields.

    read(row, ctx): record fields from the row's values (keys of the group may be absent).
    write(record, base, ctx): the group's row values for a record; ``base`` holds the
        record's original values, used for whatever the record's fields do not cover.
    has(record): whether the record has anything for this group.
    """

    keys: tuple[str, ...]
    read: Callable[[Row, Context], dict[str, Any]]
    write: Callable[[PersonSample, Row, Context], Row]
    has: Callable[[PersonSample], bool] = lambda r: True


@dataclass(frozen=True)
class NpzFormat:
    """A column layout: required keys, allowed per-row shapes (TEXT for strings), groups."""

    name: str
    required: tuple[str, ...]
    shapes: Mapping[str, Any]
    groups: tuple[Group, ...]
    file_flags: Callable[[Mapping[str, np.ndarray]], dict[str, Any]] = lambda arrays: {}
    write_flags: Callable[[Sequence[PersonSample]], dict[str, Any]] = lambda records: {}


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read eagerly and without pickle.

    Raises:
        DataError: the file is missing, a folder, or not a readable npz archive.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not an .npz file")
    try:
        with np.load(p, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise DataError(f"{p}: a single .npy array, not an .npz archive")
            return {k: np.asarray(z[k]) for k in z.files}
    except AdhmrError:
        raise
    except MemoryError:
        raise DataError(f"{p}: corrupt .npz (an array claims more memory than there is)") from None
    # The archive is untrusted input: zipfile, zlib and numpy's header parser each raise
    # their own exception types on corrupt bytes, and all mean the same to the user.
    except Exception as exc:  # noqa: BLE001
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise DataError(f"{p}: not a readable .npz file ({reason})") from None


def text(value: np.ndarray, key: str) -> str:
    """A 0-d string or bytes array as str."""
    v = value.item() if isinstance(value, np.ndarray) else value
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{key}: not valid UTF-8 text") from None
    if not isinstance(v, str):
        raise DataError(f"{key}: expected text, got {type(v).__name__}")
    return v


def _check_columns(path: str, arrays: Mapping[str, np.ndarray], fmt: NpzFormat) -> int:
    missing = [k for k in fmt.required if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing key(s) {', '.join(missing)} (not a {fmt.name}-style npz)")
    names = arrays["imgname"]
    if names.ndim != 1:
        raise DataError(f"{path}: 'imgname' must be one name per row, got shape {names.shape}")
    n = len(names)
    for key, allowed in fmt.shapes.items():
        if key not in arrays:
            continue
        arr = arrays[key]
        if allowed == TEXT:
            if arr.ndim != 1 or arr.dtype.kind not in "US":
                raise DataError(f"{path}: '{key}' must be (N,) text, got {arr.dtype} {arr.shape}")
        else:
            if arr.dtype.kind not in "fiub":
                raise DataError(f"{path}: '{key}' must hold numbers, got dtype {arr.dtype}")
            options = allowed if isinstance(allowed, list) else [allowed]
            if arr.ndim == 0 or tuple(arr.shape[1:]) not in options:
                want = " or ".join(str((n, *o)) for o in options)
                raise DataError(f"{path}: '{key}' must have shape {want}, got {arr.shape}")
        if len(arr) != n:
            raise DataError(f"{path}: '{key}' has {len(arr)} rows but 'imgname' has {n}")
    return n


def read_npz(
    path: str | Path,
    fmt: NpzFormat,
    image_root: str | Path | None = None,
    label_kind: str | None = None,
) -> AnnotationFile:
    """Read a column file into records; rows that make no valid record are rejected.

    label_kind: given to rows that have a pose and no ``label_kind`` value in the file.

    Raises:
        DataError: the file is unreadable, or a key is missing or has the wrong shape or
            dtype (a whole-file problem). Row problems (NaN, empty box) only reject rows.
    """
    p = str(path)
    arrays = load_npz(p)
    n = _check_columns(p, arrays, fmt)
    per_row = {k: v for k, v in arrays.items() if v.ndim >= 1 and len(v) == n}
    file_extras = {k: v for k, v in arrays.items() if k not in per_row}
    ctx = Context(str(Path(image_root) if image_root is not None else Path(p).absolute().parent))
    ctx.flags.update(fmt.file_flags(arrays))
    records: list[PersonSample] = []
    rejected: list[tuple[str, str]] = []
    for i in range(n):
        row = {k: v[i, ...] for k, v in per_row.items()}
        try:
            values: dict[str, Any] = {}
            for g in fmt.groups:
                if any(k in row for k in g.keys):
                    values.update(g.read(row, ctx))
            if values.get("label_kind") is None and values.get("pose") is not None:
                values["label_kind"] = label_kind
            records.append(PersonSample(**values, source=f"{fmt.name}:{p}#{i}", extra=row))
        except AdhmrError as exc:
            rejected.append((f"{p}#{i}", str(exc)))
    if rejected:
        log.info("%s: %d of %d rows rejected", p, len(rejected), n)
    return AnnotationFile(p, fmt.name, tuple(records), tuple(rejected), file_extras)


def _agrees(record: PersonSample, values: Mapping[str, Any]) -> bool:
    for name, v in values.items():
        mine = getattr(record, name)
        if v is None or mine is None or isinstance(v, str):
            if v != mine if not isinstance(mine, np.ndarray) else True:
                return False
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            theirs = np.asarray(v, dtype=np.float32)
        if theirs.shape != mine.shape or not np.array_equal(theirs, mine):
            return False
    return True


def _group_row(record: PersonSample, g: Group, ctx: Context) -> Row | None:
    base = {k: record.extra[k] for k in g.keys if k in record.extra}
    if base:
        try:
            if _agrees(record, g.read(base, ctx)):
                return base
        except (AdhmrError, ValueError, IndexError, TypeError, KeyError):
            pass
    elif not g.has(record):
        return None
    return g.write(record, base, ctx)


def _zero_like(values: Iterable[np.ndarray]) -> np.ndarray:
    first = next(iter(values))
    return np.zeros(first.shape, dtype=first.dtype)


def _stack(key: str, column: list[np.ndarray | None]) -> np.ndarray | None:
    present = [v for v in column if v is not None]
    shapes = {v.shape for v in present}
    if len(shapes) > 1:
        log.warning("'%s' has rows of different shapes %s; not written", key, sorted(shapes))
        return None
    if len(present) < len(column):
        fill = _zero_like(present)
        column = [fill if v is None else v for v in column]
    return np.stack(column)


def write_npz(
    path: str | Path,
    records: Sequence[PersonSample],
    fmt: NpzFormat,
    file_extras: Mapping[str, np.ndarray] | None = None,
    image_root: str | Path | None = None,
) -> None:
    """Write records as a column file (atomically: a temporary file, then a rename).

    image_root: folder image names are written relative to (default: the file's folder);
        absolute image paths outside it are written as they are.

    A value a record does not have is written as zeros, which these formats read as
    absent (``has_smpl`` 0, confidence 0). An ``extra`` key that some records lack is
    filled with zeros too; one whose shape differs between records is left out.
    """
    out = Path(path)
    ctx = Context(str(Path(image_root) if image_root is not None else out.absolute().parent))
    ctx.flags.update(fmt.write_flags(records))
    columns: dict[str, list[np.ndarray | None]] = {}
    for i, record in enumerate(records):
        row: Row = {}
        for g in fmt.groups:
            values = _group_row(record, g, ctx)
            if values:
                row.update(values)
        for k, v in record.extra.items():
            row.setdefault(k, v)
        for k, v in row.items():
            columns.setdefault(k, [None] * len(records))[i] = np.asarray(v)
    arrays = {k: a for k, col in columns.items() if (a := _stack(k, col)) is not None}
    if not records:
        arrays = _empty_columns(fmt, ctx)
    for k, v in (file_extras or {}).items():
        if k in arrays:
            raise DataError(f"{out}: file extra '{k}' clashes with a per-row key")
        arrays[k] = np.asarray(v)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, out)


def _empty_columns(fmt: NpzFormat, ctx: Context) -> dict[str, np.ndarray]:
    probe = PersonSample("x", np.array([0, 0, 1, 1]), np.zeros((17, 3)))
    arrays: dict[str, np.ndarray] = {}
    for g in fmt.groups:
        if g.has(probe):
            for k, v in g.write(probe, {}, ctx).items():
                v = np.asarray(v)
                arrays[k] = np.zeros((0, *v.shape), dtype=v.dtype)
    return arrays


def relative_name(image_path: str, root: str) -> str:
    """An absolute image path as a name under ``root`` where it lies there."""
    if not os.path.isabs(image_path):
        return image_path
    rel = os.path.relpath(image_path, root)
    return image_path if rel.startswith("..") else rel


# ---- groups shared with ProHMR's layout ----


def read_image(row: Row, ctx: Context) -> dict[str, Any]:
    return {"image_path": resolve_image_path(text(row["imgname"], "imgname"), ctx.root)}


def write_image(record: PersonSample, base: Row, ctx: Context) -> Row:
    return {"imgname": np.array(relative_name(record.image_path, ctx.root))}


def read_box(row: Row, ctx: Context) -> dict[str, Any]:
    cx, cy = (float(v) for v in row["center"])
    half = float(np.max(row["scale"])) * 100.0
    return {"box": np.array([cx - half, cy - half, cx + half, cy + half])}


def write_box(record: PersonSample, base: Row, ctx: Context) -> Row:
    center, side = record.crop_square
    scale = np.float32(side / 200.0)
    shape = base["scale"].shape if "scale" in base else ctx.flags.get("scale_shape", ())
    return {"center": center, "scale": np.full(shape, scale, dtype=np.float32)}


def scale_shape_of(records: Sequence[PersonSample]) -> tuple[int, ...]:
    """The per-row shape of ``scale`` the records came with, () if none."""
    shapes = {r.extra["scale"].shape for r in records if "scale" in r.extra}
    return max(shapes, key=len) if shapes else ()


def read_flagged(row: Row, key: str, flag: str, name: str) -> dict[str, Any]:
    if key not in row:
        return {}
    present = flag not in row or float(row[flag]) > 0
    return {name: row[key] if present else None}


def read_label_kind(row: Row, ctx: Context) -> dict[str, Any]:
    return {"label_kind": text(row["label_kind"], "label_kind") or None}


def write_label_kind(record: PersonSample, base: Row, ctx: Context) -> Row:
    return {"label_kind": np.array(record.label_kind or "")}


def write_camera(record: PersonSample, base: Row, ctx: Context) -> Row:
    has = record.camera is not None
    cam = record.camera if has else np.zeros(3, np.float32)
    return {"camera": cam, "has_camera": np.float32(has)}


IMAGE = Group(("imgname",), read_image, write_image)
BOX = Group(("center", "scale"), read_box, write_box)
LABEL_KIND = Group(("label_kind",), read_label_kind, write_label_kind, lambda r: r.label_kind is not None)
CAMERA = Group(
    ("camera", "has_camera"),
    lambda row, ctx: read_flagged(row, "camera", "has_camera", "camera"),
    write_camera,
    lambda r: r.camera is not None,
)
SCALE_SHAPES = [(), (1,), (2,)]


# ---- SPIN's own groups ----


def _read_part(row: Row, ctx: Context) -> dict[str, Any]:
    kp = np.array(row["part"][list(COCO17_FROM_SPIN24)], dtype=np.float64)
    kp[:, 2] = np.clip(kp[:, 2], 0.0, 1.0)
    return {"keypoints": kp}


def _write_part(record: PersonSample, base: Row, ctx: Context) -> Row:
    part = base.get("part")
    part = np.array(part) if part is not None and part.shape == (24, 3) else np.zeros((24, 3), np.float32)
    part[list(COCO17_FROM_SPIN24)] = record.keypoints
    return {"part": part}


def _read_smpl(row: Row, ctx: Context) -> dict[str, Any]:
    out = read_flagged(row, "pose", "has_smpl", "pose")
    out.update(read_flagged(row, "shape", "has_smpl", "betas"))
    return out


def _write_smpl(record: PersonSample, base: Row, ctx: Context) -> Row:
    pose = record.pose if record.pose is not None else np.zeros(72, np.float32)
    betas = record.betas if record.betas is not None else np.zeros(10, np.float32)
    return {"pose": pose, "shape": betas, "has_smpl": np.float32(record.pose is not None)}


def _read_s(row: Row, ctx: Context) -> dict[str, Any]:
    s = row["S"]
    return {"joints3d": s if np.any(s != 0) else None}


def _write_s(record: PersonSample, base: Row, ctx: Context) -> Row:
    j = record.joints3d
    return {"S": j if j is not None else np.zeros((24, 4), np.float32)}


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
    ),
    write_flags=lambda records: {"scale_shape": scale_shape_of(records)},
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


def record_fields(record: PersonSample) -> dict[str, Any]:
    """The record's fields as a dict (for building a changed copy by hand)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}
