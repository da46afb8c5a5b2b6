"""Exporting datasets (whole or cleaned), pairs and cleaning decisions."""

import csv
import json

import numpy as np
import pytest
from project_files import write_dataset

from engine import store as st
from engine.data.load import read_annotation_file
from engine.errors import DataError, StoreError
from engine.projects import export_cleaning, export_dataset, export_pairs, import_dataset


def _same_rows(a, b):
    """Records equal in every field but where they were read from."""
    return len(a) == len(b) and all(x.replace(source="").equals(y.replace(source="")) for x, y in zip(a, b))


@pytest.mark.parametrize("fmt", ["spin", "prohmr", "coco"])
def test_export_in_own_format_gives_the_source_rows_back(project, tmp_path, body, fmt):
    path, _ = write_dataset(tmp_path, fmt, 4, body)
    import_dataset(project, [path], name="d", body=body)
    out = tmp_path / f"out{path.suffix}"
    res = export_dataset(project, "d", out)
    assert (res.format, res.written, res.total, res.exact) == (fmt, 4, 4, True)
    assert _same_rows(read_annotation_file(out).records, read_annotation_file(path).records)


def _clean(project, keep_ids):
    ds = st.get_dataset(project, "d").id
    persons = [p for im in st.list_images(project, ds) for p in st.persons_of_image(project, im.id)]
    scores = {p.id: (1.0 if p.id in keep_ids else 0.0) for p in persons}
    return st.add_cleaning_run(project, ds, scores, threshold=0.5), persons


def test_cleaned_export_keeps_only_kept_persons_and_honours_overrides(project, tmp_path, body):
    path, _ = write_dataset(tmp_path, "spin", 5, body)
    import_dataset(project, [path], name="d", body=body)
    ds = st.get_dataset(project, "d").id
    ids = [p.id for im in st.list_images(project, ds) for p in st.persons_of_image(project, im.id)]
    run, _ = _clean(project, {ids[0], ids[2], ids[3]})
    dropped = next(d for d in st.cleaning_decisions(project, run) if d.person_id == ids[3])
    st.set_cleaning_override(project, dropped.id, False)
    out = tmp_path / "clean.npz"
    res = export_dataset(project, "d", out, cleaning_run=run)
    assert (res.written, res.total, res.exact) == (2, 5, True)
    source = read_annotation_file(path).records
    assert _same_rows(read_annotation_file(out).records, [source[0], source[2]])

    assert export_cleaning(project, run, tmp_path / "decisions.csv") == 5
    with open(tmp_path / "decisions.csv") as f:
        rows = list(csv.DictReader(f))
    assert sum(int(r["keep"]) for r in rows) == 2


def test_changed_source_falls_back_to_the_project_rows(project, tmp_path, body):
    path, _ = write_dataset(tmp_path, "spin", 3, body)
    import_dataset(project, [path], name="d", body=body)
    original = read_annotation_file(path).records
    path.write_bytes(path.read_bytes() + b"\0")
    res = export_dataset(project, "d", tmp_path / "out.npz")
    assert res.exact is False and res.written == 3
    for a, b in zip(read_annotation_file(tmp_path / "out.npz").records, original, strict=True):
        np.testing.assert_allclose(a.box, b.box, atol=1e-4)
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-4)
        np.testing.assert_allclose(a.camera, b.camera, atol=1e-4)
        np.testing.assert_allclose(a.betas, b.betas, atol=1e-5)


def test_export_to_another_format_and_errors(project, tmp_path, body):
    path, _ = write_dataset(tmp_path, "spin", 2, body)
    import_dataset(project, [path], name="d", body=body)
    res = export_dataset(project, "d", tmp_path / "as.json", format="coco")
    assert (res.format, res.written, res.exact) == ("coco", 2, False)
    assert len(json.loads((tmp_path / "as.json").read_text())["annotations"]) == 2
    with pytest.raises(StoreError, match="no dataset 'nope'"):
        export_dataset(project, "nope", tmp_path / "x.npz")
    other, _ = write_dataset(tmp_path, "coco", 2, body)
    import_dataset(project, [other], name="e")
    e_run = st.add_cleaning_run(project, st.get_dataset(project, "e").id, {}, threshold=0.5)
    with pytest.raises(StoreError, match="is of dataset"):
        export_dataset(project, "d", tmp_path / "x.npz", cleaning_run=e_run)
    import_dataset(project, [path, other], name="m", body=body)
    with pytest.raises(DataError, match="holds mixed data; choose the output format"):
        export_dataset(project, "m", tmp_path / "m.npz")
    assert export_dataset(project, "m", tmp_path / "m.npz", format="spin").written == 4
    with pytest.raises(DataError, match="pairs are written as .jsonl or .npz"):
        export_pairs(project, tmp_path / "pairs.csv")


def test_pairs_export_by_suffix(project, tmp_path, body):
    path, _ = write_dataset(tmp_path, "spin", 1, body)
    import_dataset(project, [path], name="d", body=body)
    (person,) = st.persons_of_image(project, st.list_images(project)[0].id)
    st.add_sample_run(project, person.id, np.zeros((3, 157)), seed=0, steps=4, scores=[0.9, 0.5, 0.1])
    cands = st.candidates_of_person(project, person.id)
    st.add_manual_pair(project, person.id, cands[0].id, cands[2].id)
    assert export_pairs(project, tmp_path / "pairs.jsonl") == 1
    assert export_pairs(project, tmp_path / "pairs.npz") == 1
    line = json.loads((tmp_path / "pairs.jsonl").read_text())
    assert line["winner_score"] == pytest.approx(0.9) and line["loser_score"] == pytest.approx(0.1)
