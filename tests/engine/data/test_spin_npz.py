"""SPIN-style npz: what records hold, exact round trips, edits, bad rows."""

import numpy as np
import pytest

from engine.data.joint_sets import COCO17_FROM_SPIN24
from engine.data.records import PersonSample
from engine.data.spin_npz import read_spin_npz, write_spin_npz
from engine.errors import DataError

N = 7


def spin_arrays(rng, n=N, dtype=np.float64):
    part = np.concatenate([rng.uniform(0, 500, (n, 24, 2)), rng.integers(0, 2, (n, 24, 1))], -1)
    return {
        "imgname": np.array([f"images/person_{i:04d}.jpg" for i in range(n)]),
        "center": rng.uniform(100, 400, (n, 2)).astype(dtype),
        "scale": rng.uniform(0.5, 2.0, n).astype(dtype),
        "part": part.astype(dtype),
        "S": rng.normal(size=(n, 24, 4)).astype(dtype),
        "pose": rng.normal(size=(n, 72)).astype(dtype),
        "shape": rng.normal(size=(n, 10)).astype(dtype),
        "has_smpl": (np.arange(n) % 3 != 1).astype(dtype),
        "openpose": rng.uniform(0, 1, (n, 25, 3)).astype(dtype),
        "gender": np.array(["m", "f"] * (n // 2) + ["m"] * (n % 2)),
        "maskname": np.array([f"masks/{i}.png" for i in range(n)]),
        "camera_id": np.arange(n, dtype=np.int16),
        "dataset_version": np.array(3),
    }


def assert_same_file(path, arrays):
    with np.load(path) as z:
        assert sorted(z.files) == sorted(arrays)
        for k, v in arrays.items():
            assert z[k].dtype == v.dtype, k
            assert np.array_equal(z[k], v), k


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_is_exact_for_every_key(tmp_path, dtype):
    arrays = spin_arrays(np.random.default_rng(0), dtype=dtype)
    np.savez(tmp_path / "a.npz", **arrays)
    f = read_spin_npz(tmp_path / "a.npz")
    assert len(f.records) == N and f.rejected == ()
    assert set(f.file_extras) == {"dataset_version"}
    write_spin_npz(tmp_path / "b.npz", f.records, f.file_extras)
    assert_same_file(tmp_path / "b.npz", arrays)
    again = read_spin_npz(tmp_path / "b.npz")
    assert all(a.equals(b.replace(source=a.source)) for a, b in zip(again.records, f.records))


def test_records_hold_box_keypoints_smpl_and_resolved_paths(tmp_path):
    arrays = spin_arrays(np.random.default_rng(1))
    np.savez(tmp_path / "a.npz", **arrays)
    f = read_spin_npz(tmp_path / "a.npz")
    r = f.records[0]
    cx, cy = arrays["center"][0]
    half = arrays["scale"][0] * 100
    np.testing.assert_allclose(r.box, [cx - half, cy - half, cx + half, cy + half], rtol=1e-6)
    np.testing.assert_allclose(r.keypoints, arrays["part"][0][list(COCO17_FROM_SPIN24)], rtol=1e-6)
    assert r.image_path == str(tmp_path / "images" / "person_0000.jpg")
    assert r.source == f"spin:{tmp_path / 'a.npz'}#0"
    assert r.pose is not None and r.betas is not None and r.joints3d is not None
    assert f.records[1].pose is None and f.records[1].betas is None  # has_smpl 0
    assert r.extra["gender"] == "m" and r.extra["maskname"] == "masks/0.png"
    other = read_spin_npz(tmp_path / "a.npz", image_root=tmp_path / "elsewhere", label_kind="pseudo")
    assert other.records[0].image_path == str(tmp_path / "elsewhere" / "images" / "person_0000.jpg")
    assert other.records[0].label_kind == "pseudo" and other.records[1].label_kind is None


def test_edited_fields_are_written_and_the_rest_stays_exact(tmp_path):
    arrays = spin_arrays(np.random.default_rng(2))
    np.savez(tmp_path / "a.npz", **arrays)
    recs = list(read_spin_npz(tmp_path / "a.npz").records)
    kp = np.array(recs[0].keypoints)
    kp[0] = [1.5, 2.5, 1.0]
    recs[0] = recs[0].replace(keypoints=kp, pose=np.zeros(72), box=[0, 0, 100, 100])
    recs[1] = recs[1].replace(pose=np.ones(72))
    write_spin_npz(tmp_path / "b.npz", recs)
    with np.load(tmp_path / "b.npz") as z:
        assert z["part"][0, COCO17_FROM_SPIN24[0]].tolist() == [1.5, 2.5, 1.0]
        assert np.array_equal(np.delete(z["part"][0], COCO17_FROM_SPIN24[0], 0),
                              np.delete(arrays["part"][0], COCO17_FROM_SPIN24[0], 0))
        assert np.all(z["pose"][0] == 0) and np.all(z["pose"][1] == 1) and z["has_smpl"][1] == 1
        assert z["center"][0].tolist() == [50, 50] and z["scale"][0] == 0.5
        for k in ("pose", "S", "part", "center", "scale", "openpose"):
            assert np.array_equal(z[k][2:], arrays[k][2:]), k
    back = read_spin_npz(tmp_path / "b.npz").records
    assert np.array_equal(back[0].keypoints, recs[0].keypoints) and np.array_equal(back[0].box, recs[0].box)


def test_records_built_by_hand_write_and_read_back(tmp_path):
    rng = np.random.default_rng(3)
    kp = np.concatenate([rng.uniform(0, 200, (17, 2)), rng.integers(0, 2, (17, 1))], 1)
    recs = [
        PersonSample(str(tmp_path / "img" / "a.png"), [10, 20, 110, 120], kp, pose=rng.normal(size=72),
                     betas=rng.normal(size=10), camera=[0.9, 0.1, 0.2], label_kind="pseudo"),
        PersonSample("/abs/elsewhere.png", [0, 0, 40, 40], kp, joints3d=rng.normal(size=(24, 4))),
    ]
    write_spin_npz(tmp_path / "out.npz", recs)
    with np.load(tmp_path / "out.npz") as z:
        assert z["imgname"].tolist() == ["img/a.png", "/abs/elsewhere.png"]
        assert z["has_smpl"].tolist() == [1, 0] and z["has_camera"].tolist() == [1, 0]
        assert z["label_kind"].tolist() == ["pseudo", ""]
    back = read_spin_npz(tmp_path / "out.npz").records
    for a, b in zip(back, recs):
        assert a.equals(b.replace(source=a.source, extra=a.extra))


def test_boxes_become_the_square_of_their_longer_side(tmp_path):
    rec = PersonSample("a.png", [10, 20, 90, 120], np.zeros((17, 3)))
    write_spin_npz(tmp_path / "out.npz", [rec])
    assert read_spin_npz(tmp_path / "out.npz").records[0].box.tolist() == [0, 20, 100, 120]


def test_a_bad_row_is_rejected_and_the_others_kept(tmp_path):
    arrays = spin_arrays(np.random.default_rng(4))
    arrays["pose"][2, 5] = np.nan
    arrays["scale"][4] = 0
    np.savez(tmp_path / "a.npz", **arrays)
    f = read_spin_npz(tmp_path / "a.npz")
    assert len(f.records) == N - 2
    where = dict(f.rejected)
    assert "pose" in where[f"{tmp_path / 'a.npz'}#2"] and "box" in where[f"{tmp_path / 'a.npz'}#4"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("center"), "missing key"),
        (lambda a: a.update(part=a["part"][:, :17]), "'part' must have shape"),
        (lambda a: a.update(pose=a["pose"][:-1]), "rows but 'imgname'"),
        (lambda a: a.update(center=np.array([["a", "b"]] * N)), "must hold numbers"),
        (lambda a: a.update(imgname=np.arange(N)), "'imgname' must be"),
    ],
)
def test_whole_file_problems_raise_one_data_error_naming_file_and_key(tmp_path, change, message):
    arrays = spin_arrays(np.random.default_rng(5))
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=message) as err:
        read_spin_npz(tmp_path / "bad.npz")
    assert str(tmp_path / "bad.npz") in str(err.value)


def test_writing_no_records_gives_a_readable_empty_file(tmp_path):
    write_spin_npz(tmp_path / "empty.npz", [])
    f = read_spin_npz(tmp_path / "empty.npz")
    assert f.records == () and f.rejected == ()


def test_records_from_a_file_and_from_elsewhere_share_one_file(tmp_path):
    arrays = spin_arrays(np.random.default_rng(6), n=3)
    np.savez(tmp_path / "a.npz", **arrays)
    recs = list(read_spin_npz(tmp_path / "a.npz").records)
    recs.append(PersonSample("new.png", [0, 0, 20, 20], np.zeros((17, 3)), pose=np.ones(72)))
    write_spin_npz(tmp_path / "b.npz", recs)
    with np.load(tmp_path / "b.npz") as z:
        assert len(z["imgname"]) == 4 and z["gender"].tolist() == ["m", "f", "m", ""]
        assert np.all(z["openpose"][3] == 0) and z["camera_id"].tolist() == [0, 1, 2, 0]
        assert np.array_equal(z["openpose"][:3], arrays["openpose"])
    assert len(read_spin_npz(tmp_path / "b.npz").records) == 4
