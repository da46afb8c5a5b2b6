"""Column (``.npz``) annotation files: exact round trips through records.

A column file holds one row per person under named keys. A format (``NpzFormat``) says
which keys are required, the per-row shape of each known key, and how groups of keys
turn into record fields and back (``Group``).

Round trips are exact: every value of a row is kept in the record's ``extra`` (in its
original dtype), and the writer puts a row's original values back for every group whose
record fields still agree with them; only edited groups are re-derived. Keys without one
entry per row come back as ``file_extras``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from engine.data.formats import readable
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
    """A column layout: required keys, allowed per-row shapes (TEXT for strings), groups.

    file_flags(path, arrays): layout flags of a file being read (may raise DataError).
    write_flags(records): layout flags for writing these records.
    """

    name: str
    required: tuple[str, ...]
    shapes: Mapping[str, Any]
    groups: tuple[Group, ...]
    file_flags: Callable[[str, Mapping[str, np.ndarray]], dict[str, Any]] = lambda path, arrays: {}
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
    ctx.flags.update(fmt.file_flags(p, arrays))
    records: list[PersonSample] = []
    rejected: list[tuple[str, str]] = []
    for i in range(n):
        row = {k: v[i, ...] for k, v in per_row.items()}
        try:
            values: dict[str, Any] = {}
            for g in fmt.groups:
                if any(k in row for k in g.keys):
                    values.update(g.read(row, ctx))
            missing = [f for f in ("image_path", "box", "keypoints") if f not in values]
            if missing:
                # A column problem, the same for every row: refuse the whole file.
                raise DataError(f"{p}: no column gives the persons' {', '.join(missing)} ({fmt.name} format)")
            if values.get("label_kind") is None and values.get("pose") is not None:
                values["label_kind"] = label_kind
            records.append(PersonSample(**values, source=f"{fmt.name}:{p}#{i}", extra=row))
        except DataError as exc:
            if str(exc).startswith(f"{p}: no column"):
                raise
            rejected.append((f"{p}#{i}", str(exc)))
        except AdhmrError as exc:
            rejected.append((f"{p}#{i}", str(exc)))
    if rejected:
        log.info("%s: %d of %d rows rejected", p, len(rejected), n)
    return AnnotationFile(p, fmt.name, tuple(records), tuple(rejected), file_extras)


def _agrees(record: PersonSample, values: Mapping[str, Any]) -> bool:
    """Whether fields read from a row equal the record's (after the record's float32 cast)."""
    for name, v in values.items():
        mine = getattr(record, name)
        if v is None or mine is None:
            if not (v is None and mine is None):
                return False
        elif isinstance(v, str) or isinstance(mine, str):
            if v != mine:
                return False
        else:
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


def _carries_extras(record: PersonSample, fmt: NpzFormat) -> bool:
    """Whether a record's extras go into a file of this format.

    A record read from another annotation format holds that format's raw columns, which
    mean nothing here; other extras (detector landmarks, synthetic metadata) are kept.
    """
    origin = record.source.split(":", 1)[0] if ":" in record.source else ""
    return origin == fmt.name or origin not in readable()


def _stack(key: str, column: list[np.ndarray | None]) -> np.ndarray | None:
    """One column from per-row values; missing rows become zeros.

    Rows of different shapes come from records of different sources; single values are
    broadcast to the others' shape (a scale () next to a scale (2,) means w = h),
    anything else leaves the key out.
    """
    present = [v for v in column if v is not None]
    shapes = {v.shape for v in present}
    try:
        if len(shapes) > 1:
            widest = max(shapes, key=len)
            if any(s != widest and int(np.prod(s)) != 1 for s in shapes):
                raise ValueError(f"rows of different shapes {sorted(shapes)}")
            present = [np.broadcast_to(v, widest) for v in present]
            column = [None if v is None else np.broadcast_to(v, widest) for v in column]
        if len(present) < len(column):
            fill = np.zeros(present[0].shape, dtype=np.result_type(*present))
            column = [fill if v is None else v for v in column]
        return np.stack([v for v in column if v is not None])  # none left
    except (TypeError, ValueError) as exc:  # numpy's dtype promotion errors are TypeErrors
        log.warning("'%s' not written: %s", key, exc)
        return None


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
    filled with zeros too; one whose shape differs between records is left out. Records
    read from another annotation format do not bring that format's columns along.
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
        if _carries_extras(record, fmt):
            for k, v in record.extra.items():
                row.setdefault(k, v)
        for k, v in row.items():
            if k not in columns:
                columns[k] = [None] * len(records)
            columns[k][i] = np.asarray(v)
    arrays: dict[str, Any] = {k: a for k, col in columns.items() if (a := _stack(k, col)) is not None}
    if not records:
        arrays = _empty_columns(fmt, ctx)
    lost = [k for k in fmt.required if k not in arrays]
    if lost:
        raise DataError(f"{out}: records disagree on the shape of {', '.join(lost)}")
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


def keep_unchanged(base: np.ndarray | None, new: np.ndarray) -> np.ndarray:
    """``new``, but with ``base``'s own values (and dtype) wherever they equal it in float32.

    An edit to some joints of a row then leaves the other joints at full precision.
    """
    new = np.asarray(new)
    if base is None or base.shape != new.shape or base.dtype.kind not in "fiu":
        return np.array(new)
    with np.errstate(over="ignore", invalid="ignore"):
        changed = base.astype(np.float32) != new
    out = np.array(base, dtype=np.result_type(base.dtype, np.float32))
    out[changed] = new[changed]
    return out


def relative_name(image_path: str, root: str) -> str:
    """An absolute image path as a name under ``root`` where it lies there."""
    if not os.path.isabs(image_path):
        return image_path
    rel = os.path.relpath(image_path, root)
    return image_path if rel.startswith("..") else rel


# Groups shared by the SPIN and ProHMR layouts.


def read_image(row: Row, ctx: Context) -> dict[str, Any]:
    return {"image_path": resolve_image_path(text(row["imgname"], "imgname"), ctx.root)}


def write_image(record: PersonSample, base: Row, ctx: Context) -> Row:
    return {"imgname": np.array(relative_name(record.image_path, ctx.root))}


def read_box(row: Row, ctx: Context) -> dict[str, Any]:
    cx, cy = (float(v) for v in row["center"])
    half = float(np.max(row["scale"])) * 100.0
    return {"box": np.array([cx - half, cy - half, cx + half, cy + half])}


def write_box(record: PersonSample, base: Row, ctx: Context) -> Row:
    # float64, so that reading gives back the float32 box exactly.
    center, side = record.crop_square
    shape = base["scale"].shape if "scale" in base else ()
    return {"center": center, "scale": np.full(shape, side / 200.0)}


def read_flagged(row: Row, key: str, flag: str, name: str) -> dict[str, Any]:
    if key not in row:
        return {}
    if flag not in row:
        return {name: row[key]}
    value = float(row[flag])
    if value not in (0.0, 1.0):  # 2, -1 or NaN: a broken column, not a decision to guess
        raise DataError(f"{flag} must be 0 or 1, got {value:g}")
    return {name: row[key] if value == 1.0 else None}


def read_label_kind(row: Row, ctx: Context) -> dict[str, Any]:
    return {"label_kind": text(row["label_kind"], "label_kind") or None}


def write_label_kind(record: PersonSample, base: Row, ctx: Context) -> Row:
    return {"label_kind": np.array(record.label_kind or "")}


def write_camera(record: PersonSample, base: Row, ctx: Context) -> Row:
    has = record.camera is not None
    cam = keep_unchanged(base.get("camera"), record.camera) if record.camera is not None else np.zeros(3, np.float32)
    return {"camera": cam, "has_camera": np.asarray(has, np.float32)}


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
