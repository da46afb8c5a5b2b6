"""COCO keypoint JSON: records, visibility, round trips, files that are not COCO."""

import json

import numpy as np
import pytest

from engine.data.coco_json import read_coco_json, write_coco_json
from engine.data.records import PersonSample
from engine.errors import DataError


def coco_doc(rng, people=6):
    doc = {
        "info": {"description": "test", "year": 2017},
        "licenses": [{"id": 1, "name": "CC"}],
        "categories": [{"id": 1, "name": "person", "keypoints": []}, {"id": 18, "name": "dog"}],
        "images": [{"id": i, "file_name": f"val/{i:012d}.jpg", "width": 640, "height": 480} for i in range(1, 6)],
        "annotations": [],
    }
    for a in range(people):
        kp = []
        for _ in range(17):
            v = int(rng.integers(0, 3))
            kp += [int(rng.integers(0, 640)), int(rng.integers(0, 480)), v] if v else [0, 0, 0]
        doc["annotations"].append({
            "id": 1000 + a, "image_id": 1 + a % 4, "category_id": 1, "iscrowd": 0, "keypoints": kp,
            "num_keypoints": sum(v > 0 for v in kp[2::3]), "area": 5000.25, "segmentation": [[1, 2, 3, 4]],
            "bbox": [round(float(rng.uniform(0, 300)), 2), round(float(rng.uniform(0, 200)), 2), 211.07, 190.33],
        })
    doc["annotations"].append({"id": 2000, "image_id": 1, "category_id": 18, "bbox": [1, 2, 3, 4]})
    doc["annotations"].append({"id": 2001, "image_id": 2, "category_id": 1, "iscrowd": 1,
                               "keypoints": [0] * 51, "bbox": [0, 0, 99, 99]})
    return doc


def _by_id(anns):
    return sorted(anns, key=lambda a: a["id"])


def test_round_trip_gives_the_same_file(tmp_path):
    doc = coco_doc(np.random.default_rng(0))
    (tmp_path / "a.json").write_text(json.dumps(doc))
    f = read_coco_json(tmp_path / "a.json")
    assert len(f.records) == 6 and f.rejected == ()
    write_coco_json(tmp_path / "b.json", f.records, f.file_extras)
    out = json.loads((tmp_path / "b.json").read_text())
    assert _by_id(out.pop("annotations")) == _by_id(doc.pop("annotations"))
    assert out == doc


def test_boxes_visibility_and_paths(tmp_path):
    doc = coco_doc(np.random.default_rng(1))
    (tmp_path / "a.json").write_text(json.dumps(doc))
    r = read_coco_json(tmp_path / "a.json", image_root=tmp_path / "images").records[0]
    ann = doc["annotations"][0]
    x, y, w, h = ann["bbox"]
    np.testing.assert_allclose(r.box, [x, y, x + w, y + h], rtol=1e-6)
    kp = np.array(ann["keypoints"], float).reshape(17, 3)
    np.testing.assert_array_equal(r.keypoints[:, :2], kp[:, :2])
    np.testing.assert_array_equal(r.keypoints[:, 2], kp[:, 2] / 2)  # v 0/1/2 -> 0/0.5/1
    assert r.image_path == str(tmp_path / "images" / "val" / "000000000001.jpg")
    assert r.source == f"coco:{tmp_path / 'a.json'}#1000"


def test_edits_are_written_and_records_from_elsewhere_get_image_entries(tmp_path):
    doc = coco_doc(np.random.default_rng(2))
    (tmp_path / "a.json").write_text(json.dumps(doc))
    f = read_coco_json(tmp_path / "a.json")
    kp = np.array(f.records[0].keypoints)
    kp[3] = [12.5, 30.25, 0.5]
    moved = f.records[0].replace(box=[1, 2, 30.5, 40.75], keypoints=kp)
    new = PersonSample(str(tmp_path / "new" / "photo.png"), [5, 5, 50, 90], np.ones((17, 3)))
    write_coco_json(tmp_path / "b.json", [moved, *f.records[1:], new], f.file_extras)
    g = read_coco_json(tmp_path / "b.json")
    assert len(g.records) == 7
    assert np.array_equal(g.records[0].box, moved.box) and np.array_equal(g.records[0].keypoints, kp)
    assert g.records[6].image_path == new.image_path and np.array_equal(g.records[6].box, new.box)
    out = json.loads((tmp_path / "b.json").read_text())
    assert out["annotations"][0]["keypoints"][9:12] == [12.5, 30.25, 1]
    ids = [a["id"] for a in out["annotations"]]
    assert len(ids) == len(set(ids))


def test_bad_annotations_are_rejected_with_reasons(tmp_path):
    doc = coco_doc(np.random.default_rng(3))
    doc["annotations"][0]["keypoints"] = [1, 2] * 10
    doc["annotations"][1]["image_id"] = 999
    doc["annotations"][2]["keypoints"][2] = 7
    doc["annotations"][3]["bbox"] = "wide"
    doc["annotations"].append("not an object")
    (tmp_path / "a.json").write_text(json.dumps(doc))
    f = read_coco_json(tmp_path / "a.json")
    assert len(f.records) == 2
    reasons = " | ".join(r for _, r in f.rejected)
    for words in ("51 finite numbers", "image_id 999", "visibility", "'bbox'", "not a JSON object"):
        assert words in reasons


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2, 3]", "not a COCO keypoints file"),
        ('{"images": []}', "not a COCO keypoints file"),
        ('{"images": [], "annotations": [{"id": 1, "bbox": [0, 0, 1, 1]}]}', "no annotation has 'keypoints'"),
        ('{"images": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_files_that_are_not_coco_keypoints_raise_one_clear_error(tmp_path, content, message):
    p = tmp_path / "x.json"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(DataError, match=message) as err:
        read_coco_json(p)
    assert str(p) in str(err.value)
