"""The per-dataset detector cache: real BlazePose on real renders, written once, refused when stale."""

from __future__ import annotations

import numpy as np
import pytest

from engine.cli import main as cli_main
from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import (
    cache_path, detect_dataset, detections_for, detections_matching, load_detections, save_detections,
)
from engine.data.load import read_annotation_file
from engine.data.synth.generate import generate_dataset
from engine.detect import PoseDetector
from engine.errors import DataError


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    folder = tmp_path_factory.mktemp("studio")
    ann = generate_dataset(folder, 6, "studio", seed=7, size=256, workers=1)
    return ann, read_annotation_file(ann).records


@pytest.fixture(scope="module")
def detections(renders):
    _, records = renders
    return detect_dataset(records, PoseDetector(num_threads=1))


def test_the_detector_finds_the_rendered_people_and_its_world_landmarks_are_plausible(renders, detections):
    _, records = renders
    assert detections.found.sum() >= 5
    i = int(np.flatnonzero(detections.found)[0])
    world = detections.world_landmarks[i]
    # Metres with the origin at the hip midpoint: the hips straddle 0, the body spans ~1-2 m.
    assert np.linalg.norm(world[23:25].mean(0)) < 0.05
    assert 0.8 < world[:, 1].max() - world[:, 1].min() < 2.2
    # Its keypoints are the detector's own, near the render's exact ones but not equal.
    seen = detections.keypoints[i, :, 2] > 0.5
    err = np.linalg.norm(detections.keypoints[i, seen, :2] - records[i].keypoints[seen, :2], axis=1)
    assert np.median(err) < 15 and err.max() > 0


def test_the_cache_round_trips_and_refuses_other_records(renders, detections, tmp_path):
    ann, records = renders
    path = save_detections(tmp_path / "annotations.detector.npz", detections, records)
    back = load_detections(path, records)
    np.testing.assert_array_equal(back.world_landmarks, detections.world_landmarks)
    np.testing.assert_array_equal(back.found, detections.found)
    with pytest.raises(DataError, match="other records.*adhmr detect-dataset"):
        load_detections(path, records[::-1])
    with pytest.raises(DataError, match="no cached detector outputs.*adhmr detect-dataset"):
        load_detections(tmp_path / "none.detector.npz", records)
    path.write_bytes(b"not an npz")
    with pytest.raises(DataError, match="not a detector cache"):
        load_detections(path, records)


def test_the_command_writes_the_cache_a_dataset_then_reads(renders, capsys):
    ann, records = renders
    assert cli_main(["detect-dataset", str(ann), "--threads", "1"]) == 0
    assert cache_path(ann).is_file()
    assert cli_main(["detect-dataset", str(ann)]) == 0
    assert "already cached" in capsys.readouterr().out
    subset = records[1::2]
    picked = detections_matching(ann, subset)
    whole = detections_for(ann, records)
    np.testing.assert_array_equal(picked.world_landmarks, whole.world_landmarks[1::2])
    item = PersonCropDataset(subset, 64, detections=picked)[0]
    assert item["landmarks"].shape == (33, 6) and item["cond_keypoints"].shape == (17, 3)
    assert float(item["landmarks"][:, 5].max()) == float(picked.found[0])


def test_a_missing_annotation_file_is_one_line(tmp_path, capsys):
    assert cli_main(["detect-dataset", str(tmp_path / "nope.npz")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope.npz" in err


def test_ensure_makes_a_missing_or_stale_cache_once(renders, tmp_path):
    from engine.data.detector_cache import ensure_detections
    from engine.data.load import save_annotation_file

    _, records = renders
    ann = tmp_path / "annotations.npz"
    save_annotation_file(ann, records[:2])
    path = ensure_detections(ann)
    assert path == cache_path(ann) and load_detections(path, records[:2]).found.sum() >= 1
    stamp = path.stat().st_mtime_ns
    assert ensure_detections(ann) == path and path.stat().st_mtime_ns == stamp
    save_annotation_file(ann, records[:3])  # the dataset changed: the cache is remade for it
    assert len(load_detections(ensure_detections(ann), records[:3])) == 3
