"""load_dataset: dispatch by file type, bad input reported per file or row, fuzzing."""

import copy
import io
import json
import zipfile

import numpy as np
import pytest

from engine.data.load import load_dataset, npz_format, read_annotation_file, save_annotation_file
from engine.errors import AdhmrError, DataError
from engine.image_io import save_image

N = 4


def spin_arrays(rng, n=N):
    part = np.concatenate([rng.uniform(0, 60, (n, 24, 2)), np.ones((n, 24, 1))], -1)
    return {
        "imgname": np.array([f"img/{i}.png" for i in range(n)]),
        "center": rng.uniform(20, 40, (n, 2)),
        "scale": rng.uniform(0.1, 0.3, n),
        "part": part,
        "S": rng.normal(size=(n, 24, 4)),
        "pose": rng.normal(size=(n, 72)),
        "shape": rng.normal(size=(n, 10)),
        "has_smpl": np.ones(n),
    }


def coco_doc(n=N):
    kp = [10, 20, 2] * 17
    return {
        "images": [{"id": i, "file_name": f"img/{i}.png"} for i in range(n)],
        "annotations": [{"id": 10 + i, "image_id": i, "category_id": 1, "iscrowd": 0,
                         "keypoints": kp, "bbox": [5, 5, 40, 50]} for i in range(n)],
        "categories": [{"id": 1, "name": "person"}],
    }


@pytest.fixture
def dataset_dir(tmp_path):
    for i in range(N):
        save_image(tmp_path / "img" / f"{i}.png", np.zeros((64, 64, 3), np.uint8))
    np.savez(tmp_path / "spin.npz", **spin_arrays(np.random.default_rng(0)))
    (tmp_path / "coco.json").write_text(json.dumps(coco_doc()))
    return tmp_path


def test_each_file_type_goes_to_its_reader(dataset_dir):
    spin = read_annotation_file(dataset_dir / "spin.npz")
    assert spin.format == "spin" and len(spin.records) == N
    assert read_annotation_file(dataset_dir / "coco.json").format == "coco"
    save_annotation_file(dataset_dir / "p.npz", spin.records, format="prohmr")
    assert npz_format(dataset_dir / "p.npz") == "prohmr"
    assert len(read_annotation_file(dataset_dir / "p.npz").records) == N
    with pytest.raises(DataError, match="unknown annotation file type"):
        read_annotation_file(dataset_dir / "img" / "0.png")


def test_several_sources_load_the_good_and_report_the_bad(dataset_dir):
    bad_npz = dataset_dir / "truncated.npz"
    bad_npz.write_bytes((dataset_dir / "spin.npz").read_bytes()[:300])
    not_coco = dataset_dir / "list.json"
    not_coco.write_text("[1, 2]")
    fake_image = dataset_dir / "fake.jpg"
    fake_image.write_text("hello")
    paths = [dataset_dir / "spin.npz", bad_npz, dataset_dir / "coco.json", not_coco,
             dataset_dir / "missing.npz", dataset_dir / "missing.jpg", fake_image, dataset_dir / "notes.txt"]
    (dataset_dir / "notes.txt").write_text("x")
    result = load_dataset(paths)
    assert len(result.records) == 2 * N
    reasons = dict(result.rejected)
    assert set(reasons) == {str(p) for p in paths[1:2] + paths[3:]}
    assert "not a readable .npz" in reasons[str(bad_npz)]
    assert "not a COCO keypoints file" in reasons[str(not_coco)]
    assert "no such file" in reasons[str(dataset_dir / "missing.npz")]
    assert "no such file" in reasons[str(dataset_dir / "missing.jpg")]
    assert "not a readable image" in reasons[str(fake_image)]
    assert "unknown annotation file type" in reasons[str(dataset_dir / "notes.txt")]


def test_rows_whose_image_is_missing_are_rejected(dataset_dir):
    (dataset_dir / "img" / "2.png").unlink()
    result = load_dataset(dataset_dir / "spin.npz")
    assert len(result.records) == N - 1
    [(where, why)] = result.rejected
    assert where.endswith("spin.npz#2") and "image not found" in why
    assert len(load_dataset(dataset_dir / "spin.npz", check_images=False).records) == N


def test_a_photo_with_nobody_is_reported_by_the_real_detector(dataset_dir):
    result = load_dataset([dataset_dir / "img" / "0.png", dataset_dir / "img"])
    assert result.records == []
    assert len(result.rejected) == 1 + N and all("no person" in why for _, why in result.rejected)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("imgname"), "missing key"),
        (lambda a: a.update(S=a["S"][..., :3]), "'S' must have shape"),
        (lambda a: a.update(has_smpl=np.array(["yes"] * N)), "must hold numbers"),
        (lambda a: a.update(center=a["center"].astype(np.complex64)), "must hold numbers"),
        (lambda a: a.update(scale=np.float64(1.0)), "must have shape"),
    ],
)
def test_malformed_npz_is_one_error_naming_file_and_key(tmp_path, change, message):
    arrays = spin_arrays(np.random.default_rng(1))
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    result = load_dataset(tmp_path / "bad.npz", check_images=False)
    assert result.records == []
    [(where, why)] = result.rejected
    assert where == str(tmp_path / "bad.npz") and message in why


def test_npz_that_needs_pickle_or_is_a_bare_array_is_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", imgname=np.array([{"a": 1}], dtype=object), center=np.zeros((1, 2)),
             scale=np.ones(1))
    np.save(tmp_path / "bare.npy", np.zeros(3))
    (tmp_path / "bare.npy").rename(tmp_path / "bare.npz")
    for name in ("obj.npz", "bare.npz"):
        with pytest.raises(DataError) as err:
            read_annotation_file(tmp_path / name)
        assert name in str(err.value)


def test_nan_in_one_row_rejects_that_row_only(tmp_path):
    arrays = spin_arrays(np.random.default_rng(2))
    arrays["part"][1, 0, 0] = np.nan
    arrays["S"][3, 5, 2] = np.inf
    np.savez(tmp_path / "a.npz", **arrays)
    result = load_dataset(tmp_path / "a.npz", check_images=False)
    assert len(result.records) == N - 2
    assert [w.rsplit("#", 1)[1] for w, _ in result.rejected] == ["1", "3"]


def _random_value(rng):
    choices = [
        lambda: np.float64(np.nan), lambda: np.array(["x"] * int(rng.integers(0, 6))),
        lambda: rng.normal(size=tuple(rng.integers(0, 5, int(rng.integers(0, 4))))) * 10.0 ** rng.integers(-3, 40),
        lambda: np.full((N, 24, 3), np.inf), lambda: np.zeros((0,)), lambda: np.array([True, False] * 2),
        lambda: rng.integers(-5, 5, (N, 72)).astype(np.int8), lambda: np.array([b"\xff\xfe"] * N),
    ]
    return choices[int(rng.integers(len(choices)))]()


def _mutate_bytes(data, rng):
    data = bytearray(data)
    kind = int(rng.integers(3))
    if kind == 0:
        for _ in range(int(rng.integers(1, 20))):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
    elif kind == 1:
        data = data[: int(rng.integers(len(data)))]
    else:
        at = int(rng.integers(len(data)))
        data[at:at] = rng.bytes(int(rng.integers(1, 50)))
    return bytes(data)


def test_fuzzed_npz_raise_only_project_errors(tmp_path):
    rng = np.random.default_rng(1234)
    buf = io.BytesIO()
    np.savez_compressed(buf, **spin_arrays(rng))
    valid = buf.getvalue()
    for i in range(200):
        p = tmp_path / f"f{i}.npz"
        if i % 2:
            p.write_bytes(_mutate_bytes(valid, rng))
        else:
            arrays = spin_arrays(rng)
            keys = list(arrays) + ["extra_key"]
            for _ in range(int(rng.integers(1, 3))):
                arrays[keys[int(rng.integers(len(keys)))]] = _random_value(rng)
            np.savez(p, **arrays)
        try:
            read_annotation_file(p)
        except AdhmrError:
            pass
    assert zipfile.is_zipfile(io.BytesIO(valid))


def _mutate_json(doc, rng):
    values = [None, "x", -1, 1e308, [], {}, [1, 2], {"id": None}, float("nan"), True, "\u0000"]
    for _ in range(int(rng.integers(1, 4))):
        node = doc
        while isinstance(node, (dict, list)) and node and rng.random() < 0.8:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = keys[int(rng.integers(len(keys)))]
            if not isinstance(node[key], (dict, list)) or rng.random() < 0.3:
                node[key] = copy.deepcopy(values[int(rng.integers(len(values)))])
                break
            node = node[key]
    return doc


def test_fuzzed_coco_json_raise_only_project_errors(tmp_path):
    rng = np.random.default_rng(99)
    text = json.dumps(coco_doc())
    for i in range(200):
        p = tmp_path / f"f{i}.json"
        if i % 2:
            p.write_bytes(_mutate_bytes(text.encode(), rng))
        else:
            p.write_text(json.dumps(_mutate_json(coco_doc(), rng)))
        try:
            f = read_annotation_file(p)
        except AdhmrError:
            continue
        save_annotation_file(tmp_path / "out.json", f.records, file_extras=f.file_extras)
