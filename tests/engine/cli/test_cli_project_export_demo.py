"""``adhmr export``, ``adhmr detect`` and ``adhmr demo`` end to end."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import write_dataset  # noqa: E402

from engine import store as st  # noqa: E402
from engine.body.model import BodyModel  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.data.load import read_annotation_file  # noqa: E402
from engine.image_io import load_image, save_image  # noqa: E402
from engine.projects import checkpoints  # noqa: E402


@pytest.fixture
def project_with_data(tmp_path):
    path = tmp_path / "study.adhmr"
    source, _ = write_dataset(tmp_path, "spin", 3, BodyModel())
    assert main(["init", str(path)]) == 0
    assert main(["import", str(path), str(source), "--name", "d"]) == 0
    with st.Project.open(path) as p:
        persons = [q for im in st.list_images(p) for q in st.persons_of_image(p, im.id)]
        run = st.add_cleaning_run(p, 1, {q.id: float(i) for i, q in enumerate(persons)}, keep_fraction=2 / 3)
        st.add_sample_run(p, persons[0].id, np.zeros((2, 157)), seed=0, steps=4, scores=[0.8, 0.2])
        a, b = st.candidates_of_person(p, persons[0].id)
        st.add_manual_pair(p, persons[0].id, a.id, b.id)
    return path, source, run


def test_export_pairs_cleaning_and_cleaned_dataset(project_with_data, tmp_path, capsys):
    path, source, run = project_with_data
    capsys.readouterr()
    assert main(["export", str(path), "pairs", "--out", str(tmp_path / "pairs.jsonl")]) == 0
    assert "wrote 1 pairs" in capsys.readouterr().out
    assert json.loads((tmp_path / "pairs.jsonl").read_text())["status"] == "accepted"
    assert main(["export", str(path), "cleaning", "--run", str(run), "--out", str(tmp_path / "c.csv")]) == 0
    assert len((tmp_path / "c.csv").read_text().splitlines()) == 4
    out = tmp_path / "clean.npz"
    assert main(["export", str(path), "dataset", "--dataset", "d", "--run", str(run), "--out", str(out)]) == 0
    assert "wrote 2 of 3 persons" in capsys.readouterr().out
    kept = read_annotation_file(out).records
    assert [r.image_path for r in kept] == [r.image_path for r in read_annotation_file(source).records[1:]]
    assert main(["export", str(path), "dataset", "--dataset", "nope", "--out", str(out)]) == 1
    assert "no dataset 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["export", str(path), "dataset", "--out", str(out)])
    assert e.value.code == 2


def test_detect_a_photo_and_a_project_dataset(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    save_image(photo, data.astronaut())
    kp, overlay = tmp_path / "kp.json", tmp_path / "seen.png"
    assert main(["detect", str(photo), "--out", str(kp), "--overlay", str(overlay)]) == 0
    (doc,) = json.loads(kp.read_text())  # a list: one entry per person
    assert len(doc["keypoints"]) == 17 and doc["person"] == 0 and doc["keypoints"][0][2] > 0.5
    assert load_image(overlay).shape == (512, 512, 3)
    assert "nose" in capsys.readouterr().out
    assert main(["detect", str(tmp_path / "none.png")]) == 1
    with pytest.raises(SystemExit) as e:
        main(["detect"])
    assert e.value.code == 2

    project = tmp_path / "p.adhmr"
    assert main(["init", str(project)]) == 0
    assert main(["import", str(project), str(photo), "--name", "photos", "--no-detect"]) == 0
    assert main(["detect", "--project", str(project), "--dataset", "photos"]) == 0
    assert "people found in 1 of 1 photos without a person" in capsys.readouterr().out
    with st.Project.open(project) as p:
        (person,) = st.persons_of_image(p, st.list_images(p)[0].id)
        np.testing.assert_allclose(person.keypoints, doc["keypoints"], atol=1e-3)


def test_demo_builds_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(checkpoints.BUNDLED, "base", tmp_path / "none" / "base")
    monkeypatch.setitem(checkpoints.BUNDLED, "scorer", tmp_path / "none" / "scorer")
    folder = tmp_path / "demo"
    assert main(["demo", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "dataset synthetic-studio: 12 persons" in out and "dataset synthetic-wild: 12 persons" in out
    assert "no bundled base checkpoint installed" in out
    with st.Project.open(folder / "demo.adhmr") as p:
        names = {d.name for d in st.list_datasets(p)}
        assert {"synthetic-studio", "synthetic-wild", "photos"} <= names
        photos = st.get_dataset(p, "photos").id
        (astronaut,) = [im for im in st.list_images(p, photos) if Path(im.path).name == "astronaut.png"]
        (person,) = st.persons_of_image(p, astronaut.id)
        assert person.keypoints[:5, 2].min() > 0.5
    assert main(["demo", str(folder)]) == 0
    assert "already holds a complete demo" in capsys.readouterr().out
    (tmp_path / "file").write_text("x")
    assert main(["demo", str(tmp_path / "file")]) == 1
