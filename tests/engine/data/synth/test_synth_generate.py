"""The dataset job: file layout, determinism across workers, resume, and corruption."""

import shutil

import numpy as np
import pytest
import torch

from engine.body.model import BodyModel

from engine.data.spin_npz import read_spin_npz
from engine.data.synth.generate import SHARD_SIZE, generate_dataset
from engine.errors import BodyModelError, DataError, JobCancelled

N = SHARD_SIZE + 6  # two shards, the second partial
SIZE = 96


def load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def wild(tmp_path_factory):
    out = tmp_path_factory.mktemp("wild")
    return out, load(generate_dataset(out, N, "wild", seed=3, size=SIZE, workers=1))


def test_annotation_file_has_the_spin_keys_and_extras(wild):
    out, a = wild
    shapes = {
        "imgname": (N,), "center": (N, 2), "scale": (N,), "part": (N, 24, 3), "S": (N, 24, 4), "pose": (N, 72),
        "shape": (N, 10), "has_smpl": (N,), "keypoints_coco": (N, 17, 3), "keypoints_coco_gt": (N, 17, 3),
        "cam_t": (N, 3), "focal": (N,), "principal": (N, 2), "domain": (N,), "camera": (N, 3),
    }
    for key, shape in shapes.items():
        assert a[key].shape == shape, key
    assert "is_corrupted" not in a
    assert set(a["domain"]) == {"wild"} and set(a["label_kind"]) == {"gt"} and np.all(a["has_smpl"] == 1)
    assert np.array_equal(a["keypoints_coco"], a["part"][:, [19, 20, 21, 22, 23, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0]])
    assert all((out / name).is_file() for name in a["imgname"])
    records = read_spin_npz(out / "annotations.npz").records
    assert len(records) == N and records[0].pose is not None and records[0].camera is not None


def test_workers_do_not_change_the_result(tmp_path, wild):
    out, a = wild
    b = load(generate_dataset(tmp_path, N, "wild", seed=3, size=SIZE, workers=2))
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    for name in a["imgname"][[0, -1]]:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes()


def test_a_cancelled_run_resumes_to_the_same_result(tmp_path, wild):
    _, a = wild
    events = []

    def cancel_after_first_shard():
        return any("rendered" in e.message and not e.message.startswith("rendered 0/") for e in events)

    with pytest.raises(JobCancelled):
        generate_dataset(tmp_path, N, "wild", seed=3, size=SIZE, workers=1,
                         progress=events.append, should_cancel=cancel_after_first_shard)
    assert not (tmp_path / "annotations.npz").exists()
    assert len(list((tmp_path / "images").glob("*.jpg"))) == SHARD_SIZE
    events.clear()
    b = load(generate_dataset(tmp_path, N, "wild", seed=3, size=SIZE, workers=1, progress=events.append))
    assert events[0].message == f"rendered {SHARD_SIZE}/{N}"
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_a_folder_refuses_other_settings(wild):
    out, _ = wild
    with pytest.raises(DataError, match="other settings"):
        generate_dataset(out, N, "wild", seed=4, size=SIZE, workers=1)
    with pytest.raises(DataError, match="unknown synthetic domain"):
        generate_dataset(out, N, "moon", seed=3, size=SIZE, workers=1)


def test_a_missing_body_model_fails_before_workers_start(tmp_path):
    with pytest.raises(BodyModelError, match="missing.npz"):
        generate_dataset(tmp_path, 70, "studio", size=SIZE, workers=2, body_path=tmp_path / "missing.npz")


def test_corruption_changes_only_the_marked_3d_labels(tmp_path, wild):
    src, clean = wild
    out = tmp_path / "pseudo"
    shutil.copytree(src, out)  # already rendered: only the annotation file is rebuilt
    a = load(generate_dataset(out, N, "wild", seed=3, size=SIZE, workers=1, corrupt_fraction=0.25))
    marked = a["is_corrupted"]
    assert marked.sum() == round(0.25 * N)
    assert set(a["label_kind"]) == {"pseudo"}
    assert set(a["corruption_kind"][marked]) <= {"limb_swap", "joint_flip", "depth_ambiguity", "shape", "global_orient"}
    assert np.all(a["corruption_kind"][~marked] == "")
    assert np.array_equal(a["clean_pose"], clean["pose"]) and np.array_equal(a["clean_shape"], clean["shape"])
    changed = np.any(a["pose"] != clean["pose"], axis=1) | np.any(a["shape"] != clean["shape"], axis=1)
    assert np.array_equal(changed, marked)
    assert np.array_equal(np.any(a["S"] != clean["S"], axis=(1, 2)), marked)
    for key in ("part", "keypoints_coco", "keypoints_coco_gt", "cam_t", "imgname", "center"):
        assert np.array_equal(a[key], clean[key]), key
    # S follows the (wrong) label, so a model trained on it sees one consistent body.
    i = int(np.flatnonzero(marked)[0])
    out = BodyModel()(torch.from_numpy(a["pose"][i:i + 1]), torch.from_numpy(a["shape"][i:i + 1]),
                      rotation_format="axis_angle")
    coco = out.keypoints[0].numpy() + a["cam_t"][i]
    assert np.abs(a["S"][i, [19, 20, 21, 22, 23, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0], :3] - coco).max() < 1e-4


def test_a_folder_shrinks_or_grows_reusing_what_it_has(tmp_path, wild):
    src, a = wild
    out = tmp_path / "copy"
    shutil.copytree(src, out)
    events = []
    small = load(generate_dataset(out, 10, "wild", seed=3, size=SIZE, workers=1, progress=events.append))
    assert events[0].message == "rendered 10/10"
    for k in a:
        assert np.array_equal(small[k], a[k][:10]), k
    events.clear()
    big = load(generate_dataset(out, N + 5, "wild", seed=3, size=SIZE, workers=1, progress=events.append))
    assert events[0].message == f"rendered {SHARD_SIZE}/{N + 5}"
    for k in a:
        assert np.array_equal(big[k][:N], a[k]), k
