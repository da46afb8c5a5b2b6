"""Preference pairs on disk: JSONL (one pair a line) and npz (one array per field).

JSONL is meant for other DPO trainers too: plain JSON, one object per line, no code
needed to read it. Fields of each line:

===================  ==========================================================
format               "adhmr-pairs" (and "version": 1)
image                image file; a relative path is relative to the JSONL's folder
crop_center          [x, y] pixels: centre of the square crop the cameras are for
crop_size            side of that crop in pixels (the crop is resized to the model's S)
box                  [x0, y0, x1, y1] pixels of the person, or null
keypoints            17 x [x, y, confidence], COCO-17 order, image pixels
winner, loser        D numbers each: the preferred and the dispreferred body
layout               how the D numbers are laid out (below); "dim": D
winner_score,        the HMR-Scorer's scores in (0, 1) (null for manual pairs);
loser_score, margin  margin = winner_score - loser_score
source               "auto" (scorer-built) or "manual" (picked by hand)
status               "proposed" / "accepted" train; "rejected", "skipped",
                     "both_bad" are manual decisions that drop the pair
person               key of the person; winner_key / loser_key: keys of the two
                     candidates (a manual line with the same person and keys
                     overrules an automatic one)
winner_index,        the candidates' positions among the M sampled hypotheses
loser_index          (hypothesis 0 is the zero-noise one), or null
base_checkpoint,     what sampled and scored the candidates (null when unknown)
scorer_checkpoint
pair_id              the project's pair id, or null
landmarks            33 x [x, y, z, visibility, presence, found]: the pose
                     detector's world landmarks of the person (metres, camera
                     axes, origin at the hip midpoint) that a detector-conditioned
                     model reads (``engine.data.landmark_tokens``); all zeros when
                     the detector found nobody; null or absent when unknown
===================  ==========================================================

Layout of a parameter vector (D = 157): 24 joint rotations in the 6D representation
(the first two columns of each rotation matrix, root first, SMPL joint order,
camera-oriented: OpenCV frame x right, y down, z forward), then 10 shape coefficients,
then the weak-perspective camera (s, tx, ty) mapping a body point X (metres) to
normalised crop coordinates s * (X_xy + t), where [-1, 1] spans the crop.

The npz holds the same fields as arrays over N pairs: winner, loser (N, D) float32;
crop_center (N, 2) float64; crop_size (N,); keypoints (N, 17, 3) float32; box (N, 4)
(NaN when unknown); winner_score, loser_score (N,) float64 (NaN when unknown);
winner_index, loser_index, pair_id (N,) int64 (-1 when unknown); landmarks (N, 33, 6)
float32 (NaN rows when unknown; optional, files without it read); image, source,
status, person, winner_key, loser_key, base_checkpoint, scorer_checkpoint (N,) str
('' when unknown). Files are written atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
from engine.errors import AdhmrError, DataError
from engine.training.pairs import PreferencePair

FORMAT = "adhmr-pairs"
VERSION = 1
LAYOUT_TEXT = "rot6d[24x6, root first] + betas[10] + cam[s, tx, ty]"
_TEXT = ("image", "source", "status", "person", "winner_key", "loser_key", "base_checkpoint", "scorer_checkpoint")
_INTS = ("winner_index", "loser_index", "pair_id")


def pair_to_json(pair: PreferencePair) -> dict[str, Any]:
    """The JSONL object of one pair (see the module docstring)."""
    return {
        "format": FORMAT, "version": VERSION,
        # Absolute: a relative path means "from the working directory" here, but "from the
        # JSONL's folder" to a reader (a job's frozen pairs are read from another folder).
        "image": os.path.abspath(pair.image),
        "crop_center": [float(v) for v in pair.crop_center],
        "crop_size": pair.crop_size,
        "box": None if pair.box is None else [float(v) for v in pair.box],
        "keypoints": pair.keypoints.tolist(),
        "winner": pair.winner.tolist(), "loser": pair.loser.tolist(),
        "layout": LAYOUT_TEXT, "dim": pair.dim,
        "winner_score": pair.winner_score, "loser_score": pair.loser_score, "margin": pair.margin,
        "source": pair.source, "status": pair.status,
        "person": pair.person, "winner_key": pair.winner_key, "loser_key": pair.loser_key,
        "winner_index": pair.winner_index, "loser_index": pair.loser_index,
        "base_checkpoint": pair.base_checkpoint, "scorer_checkpoint": pair.scorer_checkpoint,
        "pair_id": pair.pair_id,
        "landmarks": None if pair.landmarks is None else pair.landmarks.tolist(),
    }


def pair_from_json(obj: Any, root: Path, where: str) -> PreferencePair:
    """A pair from one JSONL object; relative image paths are taken from ``root``."""
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object")
    missing = [k for k in ("image", "crop_center", "crop_size", "keypoints", "winner", "loser") if k not in obj]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}")
    image = obj["image"]
    if not isinstance(image, str) or not image:
        raise DataError(f"{where}: 'image' must be a path")
    try:
        return PreferencePair(
            image=_resolve(image, root), crop_center=obj["crop_center"], crop_size=float(obj["crop_size"]),
            keypoints=obj["keypoints"], winner=obj["winner"], loser=obj["loser"],
            winner_score=obj.get("winner_score"), loser_score=obj.get("loser_score"),
            source=obj.get("source", "auto"), status=obj.get("status", "proposed"),
            person=obj.get("person") or "", winner_key=obj.get("winner_key") or "",
            loser_key=obj.get("loser_key") or "", winner_index=_opt_int(obj.get("winner_index")),
            loser_index=_opt_int(obj.get("loser_index")), base_checkpoint=obj.get("base_checkpoint"),
            scorer_checkpoint=obj.get("scorer_checkpoint"), box=obj.get("box"), pair_id=_opt_int(obj.get("pair_id")),
            landmarks=obj.get("landmarks"))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: malformed pair ({exc})") from None
    except AdhmrError as exc:
        raise DataError(f"{where}: {exc}") from None


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


def _resolve(image: str, root: Path) -> str:
    p = Path(os.path.expanduser(image))
    return str(p if p.is_absolute() else (root / p))


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def write_pairs_jsonl(path: str | Path, pairs: Sequence[PreferencePair]) -> int:
    """Write pairs as JSONL; returns the count."""
    out = Path(path)
    tmp = _atomic_target(out)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for p in pairs:
                f.write(json.dumps(pair_to_json(p)) + "\n")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return len(pairs)


def read_pairs_jsonl(path: str | Path) -> list[PreferencePair]:
    """Pairs of a JSONL file (blank lines are skipped). Raises DataError naming the line."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such pairs file")
    out = []
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: unreadable pairs file ({exc})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{p}:{n}: not JSON ({exc.msg})") from None
        except (ValueError, RecursionError):  # a 5000-digit number, or nesting deeper than Python's stack
            raise DataError(f"{p}:{n}: not a pairs record (a number too long or nesting too deep)") from None
        out.append(pair_from_json(obj, p.absolute().parent, f"{p}:{n}"))
    return out


def write_pairs_npz(path: str | Path, pairs: Sequence[PreferencePair]) -> int:
    """Write pairs as npz arrays (see the module docstring); returns the count."""
    dims = {p.dim for p in pairs}
    if len(dims) > 1:
        raise DataError(f"{path}: pairs mix parameter vectors of lengths {sorted(dims)}")
    d = dims.pop() if dims else 0
    n = len(pairs)

    def nan(v: float | None) -> float:
        return math.nan if v is None else v

    arrays: dict[str, Any] = {
        "winner": np.stack([p.winner for p in pairs]) if n else np.zeros((0, d), np.float32),
        "loser": np.stack([p.loser for p in pairs]) if n else np.zeros((0, d), np.float32),
        "crop_center": np.array([p.crop_center for p in pairs], np.float64).reshape(n, 2),
        "crop_size": np.array([p.crop_size for p in pairs], np.float64),
        "keypoints": np.array([p.keypoints for p in pairs], np.float32).reshape(n, 17, 3),
        "box": np.array([p.box if p.box is not None else [np.nan] * 4 for p in pairs], np.float32).reshape(n, 4),
        "winner_score": np.array([nan(p.winner_score) for p in pairs], np.float64),
        "loser_score": np.array([nan(p.loser_score) for p in pairs], np.float64),
        "landmarks": np.array([p.landmarks if p.landmarks is not None else np.full((NUM_LANDMARKS, TOKEN_DIM), np.nan)
                               for p in pairs], np.float32).reshape(n, NUM_LANDMARKS, TOKEN_DIM),
    }
    for k in _INTS:
        arrays[k] = np.array([-1 if getattr(p, k) is None else getattr(p, k) for p in pairs], np.int64)
    for k in _TEXT:
        arrays[k] = np.array([getattr(p, k) or "" for p in pairs], dtype=str).reshape(n)
    arrays["image"] = np.array([os.path.abspath(p.image) for p in pairs], dtype=str).reshape(n)  # as in JSONL
    out = Path(path)
    tmp = _atomic_target(out)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def read_pairs_npz(path: str | Path) -> list[PreferencePair]:
    """Pairs of an npz written by :func:`write_pairs_npz`. Raises DataError."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such pairs file")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: numpy and zipfile raise many types
        raise DataError(f"{p}: not a readable pairs .npz ({type(exc).__name__})") from None
    need = ("winner", "loser", "crop_center", "crop_size", "keypoints", "image")
    missing = [k for k in need if k not in arrays]
    if missing:
        raise DataError(f"{p}: not a pairs file (missing {', '.join(missing)})")
    n = len(arrays["winner"])
    root = p.absolute().parent
    out = []
    for i in range(n):
        def opt(key: str, kind: str) -> Any:
            if key not in arrays:
                return None
            v = arrays[key][i]
            if kind == "float":
                return None if not np.isfinite(v) else float(v)
            if kind == "int":
                return None if int(v) < 0 else int(v)
            return str(v) or None

        box = arrays["box"][i] if "box" in arrays and np.isfinite(arrays["box"][i]).all() else None
        try:
            landmarks = _known_row(arrays, "landmarks", i)
            out.append(PreferencePair(
                image=_resolve(str(arrays["image"][i]), root), crop_center=arrays["crop_center"][i],
                crop_size=float(arrays["crop_size"][i]), keypoints=arrays["keypoints"][i],
                winner=arrays["winner"][i], loser=arrays["loser"][i],
                winner_score=opt("winner_score", "float"), loser_score=opt("loser_score", "float"),
                source=opt("source", "str") or "auto", status=opt("status", "str") or "proposed",
                person=opt("person", "str") or "", winner_key=opt("winner_key", "str") or "",
                loser_key=opt("loser_key", "str") or "", winner_index=opt("winner_index", "int"),
                loser_index=opt("loser_index", "int"), base_checkpoint=opt("base_checkpoint", "str"),
                scorer_checkpoint=opt("scorer_checkpoint", "str"), box=box, pair_id=opt("pair_id", "int"),
                landmarks=landmarks))
        except (AdhmrError, ValueError, IndexError, TypeError) as exc:
            raise DataError(f"{p}: pair {i}: {exc}") from None
    return out


def _known_row(arrays: dict[str, np.ndarray], key: str, i: int) -> np.ndarray | None:
    """Row i of an optional array, None when the file has no such array or the row is
    NaN (unknown); a row that is partly NaN is malformed and left to the pair to refuse."""
    if key not in arrays:
        return None
    row = arrays[key][i]
    return None if np.isnan(row).all() else row


def save_pairs(path: str | Path, pairs: Sequence[PreferencePair]) -> int:
    """Write ``.jsonl`` or ``.npz`` by the file's suffix; returns the count."""
    suffix = Path(path).suffix.lower()
    if suffix == ".jsonl":
        return write_pairs_jsonl(path, pairs)
    if suffix == ".npz":
        return write_pairs_npz(path, pairs)
    raise DataError(f"{path}: pairs are written as .jsonl or .npz, not '{suffix}'")


def load_pairs(paths: str | Path | Sequence[str | Path]) -> list[PreferencePair]:
    """Pairs of one or more ``.jsonl`` / ``.npz`` files, in file order (not merged)."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out: list[PreferencePair] = []
    for item in items:
        suffix = Path(item).suffix.lower()
        if suffix == ".jsonl":
            out += read_pairs_jsonl(item)
        elif suffix == ".npz":
            out += read_pairs_npz(item)
        else:
            raise DataError(f"{item}: pairs are read from .jsonl or .npz, not '{suffix}'")
    return out


def missing_images(pairs: Sequence[PreferencePair]) -> list[str]:
    """The image paths of ``pairs`` that are not files, each once, in order."""
    return list(dict.fromkeys(p.image for p in pairs if not os.path.isfile(p.image)))
