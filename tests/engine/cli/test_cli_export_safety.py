"""Exports never write over the project, a file in its data folder, or an input; a refused
export leaves every byte of the target as it was."""

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import write_dataset  # noqa: E402

from engine import store as st  # noqa: E402
from engine.body.model import OPEN_BODY_PATH  # noqa: E402
from engine.cli import main  # noqa: E402


def _project(tmp_path, body, name: str):
    path = tmp_path / name
    source, _ = write_dataset(tmp_path, "spin", 2, body)
    assert main(["init", str(path)]) == 0
    assert main(["import", str(path), str(source), "--name", "d"]) == 0
    with st.Project.open(path) as p:
        (person, *_) = [q for im in st.list_images(p) for q in st.persons_of_image(p, im.id)]
        st.add_sample_run(p, person.id, np.zeros((2, 157)), seed=0, steps=4, scores=[0.8, 0.2])
        a, b = st.candidates_of_person(p, person.id)
        st.add_manual_pair(p, person.id, a.id, b.id)
    return path, source


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(argv, target: Path, capsys, words: str) -> None:
    before = _digest(target)
    capsys.readouterr()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err, err
    assert _digest(target) == before


@pytest.mark.parametrize("what", [
    ["dataset", "--dataset", "d"],
    ["dataset", "--dataset", "d", "--format", "coco"],
])
def test_an_export_onto_the_project_is_refused(tmp_path, body, capsys, what):
    path, _ = _project(tmp_path, body, "study.adhmr")
    _refused(["export", str(path), *what, "--out", str(path)], path, capsys, "is the project file")
    with st.Project.open(path) as p:
        assert [d.name for d in st.list_datasets(p)] == ["d"]


def test_pairs_onto_a_jsonl_named_project_and_through_a_symlink_are_refused(tmp_path, body, capsys):
    path, _ = _project(tmp_path, body, "study.jsonl")
    _refused(["export", str(path), "pairs", "--out", str(path)], path, capsys, "is the project file")
    link = tmp_path / "other.npz"
    link.symlink_to(path)
    _refused(["export", str(path), "pairs", "--out", str(link)], path, capsys, "is the project file")
    with st.Project.open(path) as p:
        assert len(st.list_pairs(p)) == 1


def test_an_export_into_the_data_folder_or_onto_its_source_is_refused(tmp_path, body, capsys):
    path, source = _project(tmp_path, body, "study.adhmr")
    with st.Project.open(path) as p:
        inside = next(p.data_dir.rglob("*.json"))
    _refused(["export", str(path), "dataset", "--dataset", "d", "--format", "coco", "--out", str(inside)],
             inside, capsys, "data folder")
    _refused(["export", str(path), "pairs", "--out", str(inside.with_suffix(".jsonl"))], path, capsys, "data folder")
    _refused(["export", str(path), "dataset", "--dataset", "d", "--out", str(source)], source, capsys, "is also an input")


def test_a_good_export_leaves_no_temporary_file(tmp_path, body):
    path, _ = _project(tmp_path, body, "study.adhmr")
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", str(path), "pairs", "--out", str(out / "pairs.npz")]) == 0
    assert main(["export", str(path), "dataset", "--dataset", "d", "--out", str(out / "d.npz")]) == 0
    assert sorted(f.name for f in out.iterdir()) == ["d.npz", "pairs.npz"]


def test_body_convert_and_detect_refuse_to_write_over_their_input(tmp_path, capsys):
    model = tmp_path / "model.npz"
    shutil.copy(OPEN_BODY_PATH, model)
    _refused(["body", "convert", str(model), str(model)], model, capsys, "is also an input")
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"not even read")
    _refused(["detect", str(photo), "--out", str(photo)], photo, capsys, "is also an input")
