"""COCO keypoint annotation files (``person_keypoints_*.json``).

Each non-crowd person annotation with 17 keypoints becomes a record: ``bbox`` (x, y, w, h)
gives the box (x, y, x + w, y + h), ``keypoints`` (x, y, v) * 17 the keypoints with
confidence v / 2: 0 for an unlabelled point (v = 0), 0.5 for a labelled but occluded one
(v = 1), 1 for a visible one (v = 2). Writing turns a confidence back into
v = round(2 * confidence).

Crowd regions, other categories and images without people are not records; they are
kept in ``file_extras`` (the whole file minus the imported annotations) so that writing
the records back with it gives the same file, up to the order of the annotations.
COCO files hold no 3D labels: writing drops a record's pose, shape and camera.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from engine.data.detector_columns import coco_fields, from_coco
from engine.data.joint_sets import COCO17_NAMES
from engine.data.npz_columns import relative_name
from engine.data.records import AnnotationFile, PersonSample, is_finite_number, resolve_image_path
from engine.errors import AdhmrError, DataError

log = logging.getLogger(__name__)

PERSON_CATEGORY = {
    "id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO17_NAMES),
    "skeleton": [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
                 [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                 [4, 6], [5, 7]],
}
_ANN = "coco_annotation"
_IMG = "coco_image"


def _id_key(value: Any) -> str:
    """COCO ids may be any JSON value (usually int); compare them by their JSON text."""
    return json.dumps(value)


def _load_json(path: Path) -> Any:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a JSON file")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text, so not a COCO JSON file") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise DataError(f"{path}: holds a number too long to read; not a COCO JSON file") from None


def _person_ids(doc: Mapping[str, Any]) -> set[str] | None:
    """Keys (``_key``) of the 'person' categories, None if the file names no categories."""
    cats = doc.get("categories")
    if not isinstance(cats, list):
        return None
    ids = {_id_key(c.get("id")) for c in cats if isinstance(c, dict) and c.get("name") == "person"}
    return ids or None


def _parse(ann: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Box (4,) x0, y0, x1, y1 and keypoints (17, 3) of one COCO person annotation."""
    kps = ann.get("keypoints")
    if not isinstance(kps, list) or len(kps) != 51 or not all(is_finite_number(v) for v in kps):
        raise DataError("'keypoints' must be 51 finite numbers (x, y, v for 17 joints)")
    kp = np.array(kps, dtype=np.float64).reshape(17, 3)
    if not np.isin(kp[:, 2], (0, 1, 2)).all():
        raise DataError("keypoint visibility v must be 0, 1 or 2")
    kp[:, 2] /= 2.0
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(is_finite_number(v) for v in bbox):
        raise DataError("'bbox' must be 4 finite numbers (x, y, w, h)")
    x, y, w, h = (float(v) for v in bbox)
    return np.array([x, y, x + w, y + h]), kp


def read_coco_json(
    path: str | Path, image_root: str | Path | None = None, label_kind: str | None = None
) -> AnnotationFile:
    """Read the person annotations of a COCO keypoints file.

    image_root: folder the images' ``file_name`` entries are relative to (default: the
        JSON file's folder).
    label_kind: unused (COCO has no 3D labels); accepted so every reader is called alike.

    Raises:
        DataError: not a readable JSON file, or not a COCO keypoints file (no 'images' or
            'annotations' list, or no annotation with keypoints). Bad annotations only
            reject their row, with a reason.
    """
    p = Path(path)
    doc = _load_json(p)
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list) or not isinstance(
        doc.get("annotations"), list
    ):
        raise DataError(f"{p}: not a COCO keypoints file (needs an object with 'images' and 'annotations' lists)")
    anns = doc["annotations"]
    if anns and not any(isinstance(a, dict) and "keypoints" in a for a in anns):
        raise DataError(f"{p}: no annotation has 'keypoints' (a COCO detection or caption file?)")
    root = str(image_root) if image_root is not None else str(p.absolute().parent)
    images: dict[Any, dict] = {}
    for im in doc["images"]:
        if isinstance(im, dict) and isinstance(im.get("file_name"), str) and im.get("id") is not None:
            images.setdefault(_id_key(im["id"]), im)
    persons = _person_ids(doc)
    records: list[PersonSample] = []
    rejected: list[tuple[str, str]] = []
    others: list[Any] = []
    for i, ann in enumerate(anns):
        where = f"{p}#{ann.get('id', i) if isinstance(ann, dict) else i}"
        if not isinstance(ann, dict):
            rejected.append((where, "annotation is not a JSON object"))
            continue
        if ann.get("iscrowd") or (persons is not None and _id_key(ann.get("category_id")) not in persons):
            others.append(ann)
            continue
        try:
            image = images.get(_id_key(ann.get("image_id")))
            if image is None:
                raise DataError(f"image_id {ann.get('image_id')!r} is not among the images")
            box, kp = _parse(ann)
            records.append(PersonSample(
                image_path=resolve_image_path(image["file_name"], root),
                box=box,
                keypoints=kp,
                source=f"coco:{p}#{ann.get('id', i)}",
                extra={_ANN: np.array(json.dumps(ann)), _IMG: np.array(json.dumps(image))},
                **from_coco(ann),
            ))
        except (AdhmrError, TypeError) as exc:
            rejected.append((where, str(exc)))
    file_extras = {k: v for k, v in doc.items() if k != "annotations"}
    file_extras["annotations"] = others
    if rejected:
        log.info("%s: %d of %d annotations rejected", p, len(rejected), len(anns))
    return AnnotationFile(str(p), "coco", tuple(records), tuple(rejected), file_extras)


def _number(v: np.floating) -> float | int:
    """The shortest decimal that reads back as the same float32; integral values as int."""
    x = float(str(np.float32(v)))
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _agrees(record: PersonSample, ann: Mapping[str, Any]) -> bool:
    try:
        box, kp = _parse(ann)
    except DataError:
        return False
    return np.array_equal(box.astype(np.float32), record.box) and np.array_equal(
        kp.astype(np.float32), record.keypoints
    )


class _Counter:
    """Fresh integer ids above those already in the file."""

    def __init__(self, images: list[Any], annotations: list[Any]) -> None:
        def top(items: list[Any]) -> int:
            ids = [x.get("id") for x in items if isinstance(x, dict)]
            return max([i for i in ids if isinstance(i, int) and not isinstance(i, bool)] + [0])

        self._image, self._ann = top(images), top(annotations)

    def image(self) -> int:
        self._image += 1
        return self._image

    def annotation(self) -> int:
        self._ann += 1
        return self._ann


def _annotation(record: PersonSample, base: dict[str, Any], image_id: Any, cat: Any) -> dict:
    if base and base.get("image_id") == image_id and _agrees(record, base):
        return base
    x0, y0, x1, y1 = record.box
    v = np.clip(np.rint(record.keypoints[:, 2] * 2), 0, 2).astype(int)
    kps: list[float | int] = []
    for (x, y, _), vis in zip(record.keypoints, v):
        kps += [_number(x), _number(y), int(vis)] if vis else [0, 0, 0]
    ann = dict(base)
    ann.update(
        keypoints=kps,
        num_keypoints=int((v > 0).sum()),
        bbox=[_number(x0), _number(y0), _number(x1 - x0), _number(y1 - y0)],
        image_id=image_id,
        category_id=base.get("category_id", cat),
        iscrowd=0,
        **coco_fields(record),
    )
    ann.setdefault("area", _number((x1 - x0) * (y1 - y0)))
    return ann


def _raw(record: PersonSample, key: str) -> dict[str, Any]:
    if key not in record.extra:
        return {}
    try:
        value = json.loads(str(record.extra[key]))
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def write_coco_json(
    path: str | Path,
    records: Sequence[PersonSample],
    file_extras: Mapping[str, Any] | None = None,
    image_root: str | Path | None = None,
) -> None:
    """Write records as a COCO keypoints file (atomically).

    file_extras: what ``read_coco_json`` returned for the source file (images,
        categories, the annotations that are not records, ...); without it the file gets
        one 'person' category and an image entry per image path.
    image_root: folder new image entries' ``file_name`` is relative to (default: the
        file's folder). New image entries carry no width and height.
    """
    out = Path(path)
    root = str(image_root) if image_root is not None else str(out.absolute().parent)
    doc = copy.deepcopy(dict(file_extras)) if file_extras else {}
    doc.setdefault("categories", [PERSON_CATEGORY])
    images = doc.setdefault("images", [])
    others = doc.pop("annotations", [])
    by_path: dict[str, Any] = {}
    for im in images:
        if isinstance(im, dict) and isinstance(im.get("file_name"), str):
            by_path.setdefault(resolve_image_path(im["file_name"], root), im.get("id"))
    person = json.loads(next(iter(_person_ids(doc) or {"1"})))
    image_ids = {_id_key(im.get("id")) for im in images if isinstance(im, dict)}
    used = {_id_key(a.get("id")) for a in others if isinstance(a, dict)}
    counter = _Counter(images, others)
    anns = []
    dropped = 0
    for record in records:
        image_id = by_path.get(record.image_path)
        if image_id is None:
            image = _raw(record, _IMG)
            if not image or resolve_image_path(str(image.get("file_name")), root) != record.image_path:
                image = {"file_name": relative_name(record.image_path, root)}
            if "id" not in image or _id_key(image["id"]) in image_ids:
                image["id"] = counter.image()
            image_id = by_path[record.image_path] = image["id"]
            image_ids.add(_id_key(image_id))
            images.append(image)
        ann = _annotation(record, _raw(record, _ANN), image_id, person)
        if "id" not in ann or _id_key(ann["id"]) in used:
            ann = {**ann, "id": counter.annotation()}
        used.add(_id_key(ann["id"]))
        anns.append(ann)
        dropped += any(v is not None for v in (record.pose, record.betas, record.camera, record.joints3d))
    if dropped:
        log.warning("%s: COCO files hold no 3D labels; those of %d records are not written", out, dropped)
    doc["annotations"] = anns + list(others)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(tmp, out)
