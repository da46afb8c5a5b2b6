"""Candidates computed elsewhere: the file format (npz or JSONL), read and validated.

One entry per person. Keys (npz: arrays with a leading person axis N and a fixed number
M of candidates; JSONL: one JSON object per line, the same keys without the N axis, and
M may differ from line to line):

=============  ================  ==================================================
key            shape (per line)  meaning
=============  ================  ==================================================
image          str               the photo; relative paths start at the file's folder
box            (4,)              x0, y0, x1, y1 pixels
pose           (M, 72)           SMPL axis-angle, global orientation first (radians)
betas          (M, 10)           SMPL shape coefficients
cam            (M, 3)            weak-perspective (s, tx, ty) in the person's crop
scores         (M,)              optional: the model's own score, higher is better
keypoints      (17, 3)           optional: COCO-17 x, y pixels and confidence
crop           (3,)              optional: cx, cy, side pixels of the square crop ``cam``
                                 refers to; default the project's crop of ``box``
                                 (centre of the box, side 1.2 x its longer side)
=============  ================  ==================================================

Instead of ``pose``, ScoreHypo/ADHMR's native form: ``uvd`` (M, 29, 3) -- u, v in the
crop's normalised coordinates (-1..1) and depth in metres relative to the pelvis -- or
``joints`` (M, 29, 3) camera-oriented metres, with ``twists`` (M, 23) radians or (M, 23, 2)
(cos, sin). They become SMPL rotations by HybrIK's analytic inverse kinematics
(:mod:`engine.body.inverse_kinematics`, whose docstring names the 29 joints).

The camera maps a body point X (metres, camera-oriented, no translation) to the crop's
normalised coordinates ``s * (X_xy + (tx, ty))`` (:mod:`engine.body.projection`).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.body.inverse_kinematics import inverse_kinematics, joints_from_uvd
from engine.body.model import BodyModel
from engine.data.crops import square_crop
from engine.errors import AdhmrError, DataError

SUFFIXES = (".npz", ".jsonl")
_FORMS = ("pose", "uvd", "joints")


@dataclass(frozen=True)
class PersonCandidates:
    """One person's candidates, in the project's conventions.

    image: absolute path. box: (x0, y0, x1, y1) pixels. pose: (M, 72) axis-angle.
    betas: (M, 10). cam: (M, 3) in the project's crop of ``box``. scores: (M,) or None.
    keypoints: (17, 3) pixels + confidence, or None.
    """

    image: str
    box: tuple[float, float, float, float]
    pose: np.ndarray
    betas: np.ndarray
    cam: np.ndarray
    scores: np.ndarray | None = None
    keypoints: np.ndarray | None = None


def _array(where: str, fields: dict[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray:
    """fields[key] as a finite float64 array of ``shape`` (-1: any positive length)."""
    if key not in fields:
        raise DataError(f"{where}: no {key!r}")
    try:
        arr = np.asarray(fields[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key!r} is not an array of numbers") from None
    if arr.ndim != len(shape) or any(w not in (-1, g) for w, g in zip(shape, arr.shape)) or 0 in arr.shape:
        want = "(" + ", ".join("M" if w == -1 else str(w) for w in shape) + ")"
        raise DataError(f"{where}: {key!r} has shape {arr.shape}, expected {want}")
    if not np.isfinite(arr).all():
        raise DataError(f"{where}: {key!r} holds NaN or infinite values")
    return arr


def _to_project_crop(cam: np.ndarray, crop: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Re-express weak-perspective cameras (M, 3) of the crop (cx, cy, side) in the
    project's crop of ``box``: the same pixels for every body point."""
    center, side = square_crop(box)
    s = cam[:, 0] * crop[2] / side
    # pixel = c + side/2 * s (X + t): equal offsets for X = 0 give s' t' = (s t side + 2 (c - c')) / side'.
    st = (cam[:, :1] * cam[:, 1:] * crop[2] + 2 * (crop[:2] - center)) / side
    return np.concatenate([s[:, None], st / s[:, None]], axis=1)


def person_from_fields(where: str, fields: dict[str, Any], folder: Path, body: BodyModel | None) -> PersonCandidates:
    """Validate one person's fields (see the module docstring) and convert them to the
    project's conventions. ``where`` names the file and entry in errors. ``body`` is
    needed for the 29-joint form (None: it is loaded when needed)."""
    image = fields.get("image")
    if not isinstance(image, str) or not image:
        raise DataError(f"{where}: 'image' must be a non-empty path string")
    path = Path(image) if Path(image).is_absolute() else folder / image
    if not path.is_file():
        raise DataError(f"{where}: image {image!r} not found")
    box = _array(where, fields, "box", (4,))
    if not (box[2] > box[0] and box[3] > box[1]):
        raise DataError(f"{where}: 'box' {box.tolist()} is empty (expected x0 < x1, y0 < y1)")
    forms = [k for k in _FORMS if k in fields]
    if len(forms) != 1:
        raise DataError(f"{where}: expected exactly one of 'pose', 'uvd', 'joints', got {forms or 'none'}")
    betas = _array(where, fields, "betas", (-1, 10))
    m = betas.shape[0]
    cam = _array(where, fields, "cam", (m, 3))
    if not (cam[:, 0] > 0).all():
        raise DataError(f"{where}: 'cam' scale s must be positive")
    if forms[0] == "pose":
        pose = _array(where, fields, "pose", (m, 72))
    else:
        pose = _pose_from_joints(where, fields, forms[0], m, betas, cam, body)
    if "crop" in fields:
        crop = _array(where, fields, "crop", (3,))
        if crop[2] <= 0:
            raise DataError(f"{where}: 'crop' side must be positive")
        cam = _to_project_crop(cam, crop, box)
    scores = _array(where, fields, "scores", (m,)) if fields.get("scores") is not None else None
    keypoints = _array(where, fields, "keypoints", (17, 3)) if fields.get("keypoints") is not None else None
    return PersonCandidates(
        image=str(path.resolve()),
        box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
        pose=pose.astype(np.float32), betas=betas.astype(np.float32), cam=cam.astype(np.float32),
        scores=None if scores is None else scores.astype(np.float32),
        keypoints=None if keypoints is None else keypoints.astype(np.float32),
    )


def _pose_from_joints(
    where: str, fields: dict[str, Any], form: str, m: int, betas: np.ndarray, cam: np.ndarray, body: BodyModel | None,
) -> np.ndarray:
    points = torch.from_numpy(_array(where, fields, form, (m, 29, 3)))
    if "twists" not in fields:
        raise DataError(f"{where}: {form!r} needs 'twists' (M, 23) radians or (M, 23, 2) cos/sin")
    twists = np.asarray(fields["twists"], dtype=np.float64) if _is_numeric(fields["twists"]) else None
    if twists is None or twists.shape not in ((m, 23), (m, 23, 2)) or not np.isfinite(twists).all():
        shape = None if twists is None else twists.shape
        raise DataError(f"{where}: 'twists' has shape {shape}, expected ({m}, 23) or ({m}, 23, 2) finite numbers")
    joints = joints_from_uvd(points, torch.from_numpy(cam)) if form == "uvd" else points
    try:
        pose = inverse_kinematics(body or BodyModel(), joints, torch.from_numpy(twists), torch.from_numpy(betas))
    except AdhmrError as e:
        raise DataError(f"{where}: {e}") from None
    return pose.cpu().numpy()


def _is_numeric(value: Any) -> bool:
    try:
        np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def read_candidates_file(path: str | Path, body: BodyModel | None = None) -> list[PersonCandidates]:
    """Every person of a candidates file (.npz or .jsonl), all validated.

    Raises DataError naming the file (and entry) and the first problem found.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        entries = list(_jsonl_entries(p))
    elif suffix == ".npz":
        entries = list(_npz_entries(p))
    else:
        raise DataError(f"{p}: unknown candidates file type '{p.suffix}' (expected .npz or .jsonl)")
    if not entries:
        raise DataError(f"{p}: holds no persons")
    if body is None and any(k in fields for _, fields in entries for k in ("uvd", "joints")):
        body = BodyModel()
    return [person_from_fields(where, fields, p.parent, body) for where, fields in entries]


def _jsonl_entries(p: Path) -> list[tuple[str, dict[str, Any]]]:
    out = []
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{p}: cannot be read as UTF-8 text ({e.__class__.__name__})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{p}:{n}: not JSON ({e.msg})") from None
        if not isinstance(fields, dict):
            raise DataError(f"{p}:{n}: expected a JSON object per line")
        out.append((f"{p}:{n}", fields))
    return out


def _npz_entries(p: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{p}: not a readable npz file ({e.__class__.__name__})") from None
    if "image" not in arrays or arrays["image"].ndim != 1 or arrays["image"].dtype.kind != "U":
        raise DataError(f"{p}: 'image' must be an array of N path strings")
    n = arrays["image"].shape[0]
    for key, value in arrays.items():
        if value.ndim == 0 or value.shape[0] != n:
            raise DataError(f"{p}: {key!r} has shape {value.shape}, expected {n} rows (one per image)")
    return [(f"{p}#{i}", {k: (str(v[i]) if k == "image" else v[i]) for k, v in arrays.items()}) for i in range(n)]


def write_candidates_file(path: str | Path, persons: list[PersonCandidates]) -> None:
    """Write persons in the ``pose`` form: .jsonl, or .npz when every person has the same
    M and all or none have scores and keypoints. Images are written as absolute paths."""
    p = Path(path)
    rows = [
        {
            "image": c.image, "box": list(c.box), "pose": c.pose.tolist(), "betas": c.betas.tolist(),
            "cam": c.cam.tolist(),
            **({} if c.scores is None else {"scores": c.scores.tolist()}),
            **({} if c.keypoints is None else {"keypoints": c.keypoints.tolist()}),
        }
        for c in persons
    ]
    if p.suffix.lower() == ".jsonl":
        p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return
    if p.suffix.lower() != ".npz":
        raise DataError(f"{p}: unknown candidates file type '{p.suffix}' (expected .npz or .jsonl)")
    keys = set(rows[0]) if rows else {"image"}
    if any(set(r) != keys for r in rows) or len({c.pose.shape for c in persons}) > 1:
        raise DataError(f"{p}: persons differ in M or in optional keys; write .jsonl instead")
    arrays: dict[str, Any] = {k: np.asarray([r[k] for r in rows]) for k in keys}
    arrays["image"] = np.asarray([c.image for c in persons], dtype=str)
    with open(p, "wb") as f:
        np.savez(f, **arrays)
