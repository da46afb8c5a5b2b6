"""Hostile values in imported files are refused per file with a reason, and the good
files of the same import still land."""

from project_files import write_dataset

from engine import store as st
from engine.projects.importing import import_dataset


def test_a_5001_digit_integer_rejects_its_file_only(project, tmp_path, body):
    good, _ = write_dataset(tmp_path, "coco", 2, body)
    text = good.read_text().rstrip()
    assert text.endswith("}")
    evil = tmp_path / "evil.json"
    evil.write_text(text[:-1] + ', "info": {"year": ' + "9" * 5001 + "}}")
    report = import_dataset(project, [evil, good], name="mixed")
    (where, why), = report.rejected
    assert where == str(evil) and "number too long" in why
    assert report.persons == 2
    assert len(st.list_images(project)) == 2
