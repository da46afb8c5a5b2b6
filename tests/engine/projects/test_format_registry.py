"""A dataset format is one registration: once registered it is sniffed and read by
load_dataset and import, written by export, offered by the CLI's --format choices and
listed in the app's file dialog filter."""

import json

import pytest

from engine.cli import main
from engine.data import formats
from engine.data.coco_json import read_coco_json, write_coco_json
from engine.data.load import load_dataset
from engine.errors import DataError
from engine.projects import export_dataset, import_dataset
from engine.store import get_dataset
from project_files import keypoint_records, make_images

MAGIC = "toy-keypoints"


def _write_toy(path, records, file_extras=None, image_root=None):
    """COCO JSON under a marker key, so the sniffer can tell a toy file from a COCO one."""
    write_coco_json(path, records, file_extras, image_root)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, MAGIC: True}))


def _is_toy(path) -> bool:
    return MAGIC in json.loads(path.read_text())


@pytest.fixture
def toy_format():
    formats.register_format(formats.DatasetFormat("toy", "Toy keypoints", ("*.toy",), read_coco_json, _write_toy,
                                                  sniff=_is_toy))
    yield formats.get_format("toy")
    formats.unregister_format("toy")


def test_a_registered_format_is_read_imported_and_exported(toy_format, project, tmp_path):
    images = make_images(tmp_path / "images", 3)
    records = keypoint_records(images)
    path = tmp_path / "people.toy"
    _write_toy(path, records)
    assert formats.sniff_format(path) == "toy"
    assert len(load_dataset(path).records) == 3

    report = import_dataset(project, [path], name="toys")
    assert (report.format, report.persons) == ("toy", 3)
    assert get_dataset(project, "toys").format == "toy"

    out = tmp_path / "out" / "copy.toy"
    out.parent.mkdir()
    result = export_dataset(project, "toys", out)
    assert result.format == "toy" and result.written == 3 and _is_toy(out)


def test_a_registered_format_is_offered_by_the_cli_and_the_file_dialog(toy_format, tmp_path, capsys):
    assert "*.toy" in formats.file_filter() and "Toy keypoints (*.toy)" in formats.file_filter()
    with pytest.raises(SystemExit):
        main(["import", str(tmp_path / "p.adhmr"), "x", "--format", "nope"])
    err = capsys.readouterr().err
    assert "'toy'" in err and "invalid choice" in err  # argparse lists the registered choices
    with pytest.raises(SystemExit):
        main(["export", str(tmp_path / "p.adhmr"), "dataset", "--dataset", "d", "--out", "o", "--format", "nope"])
    assert "'toy'" in capsys.readouterr().err


def test_unknown_and_duplicate_formats_are_one_line(toy_format, tmp_path):
    with pytest.raises(DataError, match="already registered"):
        formats.register_format(toy_format)
    expected = r"unknown annotation file type '\.txt' \(expected \*\.npz, \*\.json, \*\.toy\)"
    with pytest.raises(DataError, match=expected):
        formats.sniff_format(tmp_path / "notes.txt")
