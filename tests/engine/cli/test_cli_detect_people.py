"""``adhmr detect`` and ``adhmr import`` on a photo with several people."""

import json

import numpy as np
import pytest

from engine import store as st
from engine.cli import main
from engine.data.synth import SynthBody
from engine.data.synth.composite import STREET, scene
from engine.image_io import save_image


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    path = tmp_path_factory.mktemp("street") / "street.png"
    save_image(path, scene(SynthBody.load(), STREET).image)
    return path


def test_detect_writes_every_person(street, tmp_path, capsys):
    out = tmp_path / "people.json"
    assert main(["detect", str(street), "--out", str(out), "--overlay", str(tmp_path / "o.png")]) == 0
    printed = capsys.readouterr().out
    assert "4 people" in printed and "person 3:" in printed
    doc = json.loads(out.read_text())
    assert [d["person"] for d in doc] == [0, 1, 2, 3]
    for d in doc:
        assert d["image"] == str(street) and 0.5 <= d["score"] <= 1
        assert np.shape(d["keypoints"]) == (17, 3) and np.shape(d["landmarks"]) == (33, 4)
        assert np.shape(d["world_landmarks"]) == (33, 3)
        assert len(d["landmark_visibility"]) == len(d["landmark_presence"]) == 33
        x0, y0, x1, y1 = d["box"]
        assert 0 <= x0 < x1 <= 1280 and 0 <= y0 < y1 <= 720


def test_detect_thresholds(street, capsys):
    assert main(["detect", str(street), "--min-size", "500"]) == 0
    out = capsys.readouterr().out
    assert "smaller than 500 px skipped" in out
    assert main(["detect", str(street), "--min-size", "5000"]) == 1
    err = capsys.readouterr().err
    assert "no person found" in err and "skipped" in err and len(err.strip().splitlines()) == 1
    for bad in (["--min-size", "-3"], ["--min-score", "2"], ["--min-score", "x"]):
        with pytest.raises(SystemExit) as e:
            main(["detect", str(street), *bad])
        assert e.value.code == 2


def test_import_a_street_photo_makes_every_person(street, tmp_path, capsys):
    project = tmp_path / "p.adhmr"
    assert main(["init", str(project)]) == 0
    assert main(["import", str(project), str(street), "--name", "street"]) == 0
    assert "1 images and 4 persons imported" in capsys.readouterr().out
    assert main(["import", str(project), str(street), "--name", "big", "--min-size", "500"]) == 0
    assert "4 persons" not in capsys.readouterr().out
    with st.Project.open(project) as p:
        image = st.list_images(p, st.get_dataset(p, "street").id)[0]
        persons = st.persons_of_image(p, image.id)
        assert len(persons) == 4 and all(q.world_landmarks is not None for q in persons)
