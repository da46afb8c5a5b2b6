"""Importer fuzz: malformed files made from valid ones never crash an import.

Over 1000 files, seeded: truncated, wrong keys, wrong shapes, NaN, huge values, wrong
types, empty, binary garbage, wrong extensions. Every import must return (no exception),
every file must be either rejected with its path named or have contributed, and the
valid files of each batch must be imported.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from project_files import make_images, write_dataset

from engine import store as st
from engine.detect import PoseDetector
from engine.image_io import save_image
from engine.projects import dataset_sources, import_dataset

FILES_PER_KIND = 85
BATCHES = 4  # x 3 annotation kinds x FILES_PER_KIND + images = over 1000 files


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _mutate_arrays(arrays: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray] | bytes:
    a = {k: np.array(v) for k, v in arrays.items()}
    keys = sorted(a)
    key = keys[rng.integers(len(keys))]
    n = len(a["imgname"])
    op = rng.integers(15)
    if op == 0:
        del a[key]
    elif op == 1:
        a[key + "_x"] = a.pop(key)
    elif op == 2:
        a[key] = a[key].reshape(-1)[: max(1, a[key].size - 1)]
    elif op == 3 and a[key].dtype.kind == "f":
        a[key].reshape(-1)[rng.integers(a[key].size)] = np.nan
    elif op == 4 and a[key].dtype.kind == "f":
        a[key] = a[key].astype(np.float64)
        a[key].reshape(-1)[rng.integers(a[key].size)] = rng.choice([1e30, -1e300, np.inf, 1e39])
    elif op == 5:
        a[key] = np.array([["x"] * 3] * n)
    elif op == 6:
        a[key] = a[key][: n - 1]
    elif op == 7:
        a[key] = np.array(3.5)
    elif op == 8:
        a = {k: v[:0] for k, v in a.items()}
    elif op == 9:
        a[key] = np.zeros((n, 2, 2, 2), np.complex64)
    elif op == 10:
        a["scale"] = -np.abs(a["scale"]) if "scale" in a else a.get("scale")
    elif op == 11:
        a["imgname"] = np.array([rng.choice(["../../etc/passwd", "", "nope.png", "a" * 300])] * n)
    elif op == 12:
        a[key] = np.full(a[key].shape, True)
    elif op == 13:
        a[key] = np.array([{"pickled": i} for i in range(n)], dtype=object)
    else:
        raw = bytearray(_npz_bytes(a))
        for _ in range(rng.integers(1, 8)):
            raw[rng.integers(len(raw))] = rng.integers(256)
        return bytes(raw)
    return {k: v for k, v in a.items() if v is not None}


def _mutate_json(doc: dict, rng: np.random.Generator) -> bytes:
    d = json.loads(json.dumps(doc))
    op = rng.integers(9)
    junk = [None, "x", 1e308, -1, [], {}, True, [1, "a", None], 10**40]
    if op == 0:
        d.pop(rng.choice(["images", "annotations", "categories"]))
    elif op == 1:
        d[rng.choice(["images", "annotations", "categories"])] = junk[rng.integers(len(junk))]
    elif op == 2:
        ann = d["annotations"][rng.integers(len(d["annotations"]))]
        ann[rng.choice(sorted(ann))] = junk[rng.integers(len(junk))]
    elif op == 3:
        im = d["images"][rng.integers(len(d["images"]))]
        im[rng.choice(sorted(im))] = junk[rng.integers(len(junk))]
    elif op == 4:
        ann = d["annotations"][rng.integers(len(d["annotations"]))]
        ann["keypoints"] = ann["keypoints"][: rng.integers(0, 51)]
    elif op == 5:
        text = json.dumps(d).replace("1.0", "NaN", 3).replace("2", "Infinity", 1)
        return text.encode()
    elif op == 6:
        d["annotations"][0]["bbox"] = [0, 0, -5, 1e300]
    elif op == 7:
        return ("[" * 100_000 + "]" * 100_000).encode()
    else:
        d = [d]
    return json.dumps(d).encode()


def _corrupt(raw: bytes, rng: np.random.Generator) -> bytes:
    op = rng.integers(4)
    if op == 0:
        return raw[: rng.integers(len(raw))]
    if op == 1:
        return b""
    if op == 2:
        return rng.bytes(int(rng.integers(1, 400)))
    return raw[: len(raw) // 2] + b"\x00" * 64 + raw[len(raw) // 2 :]


def _absolute_names(arrays: dict[str, np.ndarray], root: Path) -> dict[str, np.ndarray]:
    """The copies live in other folders: point them at the base images."""
    arrays["imgname"] = np.array([str(root / str(n)) for n in arrays["imgname"]])
    return arrays


def _malformed(folder: Path, base: dict[str, Path], rng: np.random.Generator, batch: int) -> list[Path]:
    spin = _absolute_names(dict(np.load(base["spin"])), base["spin"].parent)
    prohmr = _absolute_names(dict(np.load(base["prohmr"])), base["prohmr"].parent)
    coco = json.loads(base["coco"].read_text())
    for im in coco["images"]:
        im["file_name"] = str(base["coco"].parent / im["file_name"])
    image = base["image"].read_bytes()
    out = []
    for i in range(FILES_PER_KIND):
        for kind, make in (
            ("spin", lambda: _mutate_arrays(spin, rng)),
            ("prohmr", lambda: _mutate_arrays(prohmr, rng)),
            ("coco", lambda: _mutate_json(coco, rng)),
        ):
            choice = rng.integers(10)
            if choice < 7:
                made = make()
                raw = made if isinstance(made, bytes) else _npz_bytes(made)
            else:
                raw = _corrupt(base[kind].read_bytes(), rng)
            suffix = base[kind].suffix if rng.random() > 0.1 else rng.choice([".json", ".npz", ".png", ".txt"])
            path = folder / f"b{batch}_{kind}_{i:03d}{suffix}"
            path.write_bytes(raw)
            out.append(path)
        if i % 4 == 0:
            path = folder / f"b{batch}_image_{i:03d}{rng.choice(['.png', '.jpg', '.npz'])}"
            path.write_bytes(_corrupt(image, rng))
            out.append(path)
    tiny = folder / f"b{batch}_tiny.png"
    save_image(tiny, np.zeros((1, 1, 3), np.uint8))
    return out + [tiny]


@pytest.fixture(scope="module")
def detector():
    return PoseDetector()


def test_malformed_files_are_rejected_and_good_ones_imported(project, tmp_path, body, detector):
    rng = np.random.default_rng(20250525)
    base = {}
    for fmt in ("spin", "prohmr", "coco"):
        base[fmt], _ = write_dataset(tmp_path / "base", fmt, 3, body)
    base["image"] = make_images(tmp_path / "base", 1, size=64, prefix="photo")[0]
    total = 0
    for batch in range(BATCHES):
        folder = tmp_path / f"batch{batch}"
        folder.mkdir()
        bad = _malformed(folder, base, rng, batch)
        good, _ = write_dataset(folder, "spin", 2, body, seed=100 + batch, name="good")
        total += len(bad)
        report = import_dataset(project, [*bad, good], name=f"batch{batch}", body=body, detector=detector)
        named = {where.split("#")[0] for where, _ in report.rejected}
        sources = {s.path for s in dataset_sources(project, report.dataset_id)}
        stored = {str(p) for _, p in st.image_files(project, report.dataset_id)}
        for path in bad:
            assert str(path) in named | sources | stored, f"{path.name} neither rejected nor imported"
        assert all(reason for _, reason in report.rejected)
        assert str(good) in sources
        good_images = {p for p in stored if "good_images" in p}
        assert len(good_images) == 2, f"batch {batch}: the valid file was not fully imported"
    assert total >= 1000
