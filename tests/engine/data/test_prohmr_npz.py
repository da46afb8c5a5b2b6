"""ProHMR-style npz: both body_pose layouts, keypoint sources, exact round trips."""

import numpy as np
import pytest

from engine.data.joint_sets import COCO17_FROM_OPENPOSE25, COCO17_FROM_SPIN24, COCO17_NAMES
from engine.data.prohmr_npz import read_prohmr_npz, write_prohmr_npz
from engine.data.records import PersonSample
from engine.errors import DataError

N = 6


def prohmr_arrays(rng, layout=72, n=N):
    def kp(k, d):
        xy = rng.uniform(0, 400, (n, k, d - 1))
        return np.concatenate([xy, rng.integers(0, 2, (n, k, 1))], -1).astype(np.float32)

    arrays = {
        "imgname": np.array([f"train/{i}.jpg".encode() for i in range(n)]),
        "center": rng.uniform(100, 300, (n, 2)).astype(np.float32),
        "scale": rng.uniform(0.5, 2.0, (n, 2)).astype(np.float32),
        "body_pose": rng.normal(size=(n, layout)).astype(np.float32),
        "has_body_pose": np.ones(n, np.float32),
        "betas": rng.normal(size=(n, 10)).astype(np.float32),
        "has_betas": (np.arange(n) % 2).astype(np.float32),
        "body_keypoints_2d": kp(25, 3),
        "extra_keypoints_2d": kp(19, 3),
        "body_keypoints_3d": kp(25, 4),
        "extra_keypoints_3d": kp(19, 4),
        "personid": np.arange(n),
    }
    if layout == 69:
        arrays["global_orient"] = rng.normal(size=(n, 3)).astype(np.float32)
    return arrays


@pytest.mark.parametrize("layout", [72, 69])
def test_round_trip_is_exact_for_both_pose_layouts(tmp_path, layout):
    arrays = prohmr_arrays(np.random.default_rng(layout), layout)
    np.savez(tmp_path / "a.npz", **arrays)
    f = read_prohmr_npz(tmp_path / "a.npz")
    assert len(f.records) == N and f.rejected == ()
    r = f.records[0]
    expected = arrays["body_pose"][0]
    if layout == 69:
        expected = np.concatenate([arrays["global_orient"][0], expected])
    assert np.array_equal(r.pose, expected)
    assert f.records[0].betas is None and f.records[1].betas is not None  # has_betas
    write_prohmr_npz(tmp_path / "b.npz", f.records, f.file_extras)
    with np.load(tmp_path / "b.npz") as z:
        assert sorted(z.files) == sorted(arrays)
        for k, v in arrays.items():
            assert z[k].dtype == v.dtype and np.array_equal(z[k], v), k


def test_limb_keypoints_come_from_extra_where_labelled_else_from_openpose(tmp_path):
    arrays = prohmr_arrays(np.random.default_rng(1))
    np.savez(tmp_path / "a.npz", **arrays)
    recs = read_prohmr_npz(tmp_path / "a.npz").records
    body, extra = arrays["body_keypoints_2d"], arrays["extra_keypoints_2d"]
    for i, r in enumerate(recs):
        for j, name in enumerate(COCO17_NAMES):
            spin = COCO17_FROM_SPIN24[j]
            if spin < 19 and extra[i, spin, 2] > 0:
                want = extra[i, spin]
            else:
                want = body[i, COCO17_FROM_OPENPOSE25[j]]
            assert np.array_equal(r.keypoints[j], want), (i, name)


def test_edited_keypoints_and_pose_read_back_as_edited(tmp_path):
    arrays = prohmr_arrays(np.random.default_rng(2), 69)
    np.savez(tmp_path / "a.npz", **arrays)
    recs = read_prohmr_npz(tmp_path / "a.npz").records
    rng = np.random.default_rng(3)
    edited = []
    for r in recs:
        kp = np.array(r.keypoints)
        kp[:, :2] += rng.normal(size=(17, 2))
        kp[::3, 2] = 0
        edited.append(r.replace(keypoints=kp, pose=np.asarray(r.pose) * 0.5))
    write_prohmr_npz(tmp_path / "b.npz", edited)
    back = read_prohmr_npz(tmp_path / "b.npz").records
    for a, b in zip(back, edited):
        assert np.array_equal(a.keypoints, b.keypoints) and np.array_equal(a.pose, b.pose)
    with np.load(tmp_path / "b.npz") as z:
        assert z["body_pose"].shape == (N, 69)
        assert np.array_equal(z["extra_keypoints_3d"], arrays["extra_keypoints_3d"])


def test_records_from_elsewhere_write_with_the_72_value_layout(tmp_path):
    kp = np.zeros((17, 3))
    rec = PersonSample("a.png", [0, 0, 10, 10], kp, pose=np.ones(72), joints3d=np.ones((24, 4)))
    write_prohmr_npz(tmp_path / "c.npz", [rec])
    with np.load(tmp_path / "c.npz") as z:
        assert z["body_pose"].shape == (1, 72) and "global_orient" not in z.files
    back = read_prohmr_npz(tmp_path / "c.npz").records[0]
    assert np.array_equal(back.pose, rec.pose) and np.array_equal(back.joints3d, rec.joints3d)
    assert back.betas is None


def test_69_value_pose_without_global_orient_is_a_clear_file_error(tmp_path):
    arrays = prohmr_arrays(np.random.default_rng(4), 69)
    del arrays["global_orient"]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match="global_orient"):
        read_prohmr_npz(tmp_path / "bad.npz")


def test_spin_records_written_as_prohmr_keep_their_labels_but_not_spins_columns(tmp_path):
    from engine.data.spin_npz import read_spin_npz, write_spin_npz

    rng = np.random.default_rng(5)
    kp = np.c_[rng.uniform(0, 100, (17, 2)), np.ones(17)]
    spin_rec = PersonSample("a.png", [0, 0, 50, 50], kp, pose=rng.normal(size=72), betas=rng.normal(size=10),
                            joints3d=rng.normal(size=(24, 4)), extra={"landmarks": np.ones((33, 4))})
    write_spin_npz(tmp_path / "s.npz", [spin_rec])
    recs = read_spin_npz(tmp_path / "s.npz").records
    write_prohmr_npz(tmp_path / "p.npz", recs)
    with np.load(tmp_path / "p.npz") as z:
        assert not {"part", "S", "pose", "shape", "has_smpl"} & set(z.files)
    back = read_prohmr_npz(tmp_path / "p.npz").records[0]
    for name in ("box", "keypoints", "pose", "betas", "joints3d"):
        assert np.array_equal(getattr(back, name), getattr(spin_rec, name)), name
    # Extras that are not another format's columns travel along.
    assert np.array_equal(recs[0].extra["landmarks"], np.ones((33, 4)))
