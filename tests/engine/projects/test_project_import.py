"""Importing annotation files and photos into a project."""

import os
import shutil

import numpy as np
import pytest
from project_files import labelled_records, make_images, write_dataset
from skimage import data

from engine import store as st
from engine.data.load import read_annotation_file
from engine.errors import DataError
from engine.image_io import save_image
from engine.projects import dataset_sources, detect_dataset, import_dataset, sha256_file
from engine.projects.labels import label_params


def _paths(project, name):
    ds = st.get_dataset(project, name)
    return [str(p) for _, p in st.image_files(project, ds.id)]


@pytest.mark.parametrize("fmt", ["spin", "prohmr", "coco"])
def test_annotation_file_becomes_a_dataset(project, tmp_path, body, fmt):
    path, _ = write_dataset(tmp_path / "src", fmt, 5, body)
    records = read_annotation_file(path).records  # SPIN and ProHMR boxes come back square
    report = import_dataset(project, [path], body=body)
    assert (report.dataset, report.format, report.images, report.persons) == (fmt, fmt, 5, 5)
    assert report.rejected == ()
    images = st.list_images(project, report.dataset_id)
    assert [im.sha256 for im in images] == [sha256_file(r.image_path) for r in records]
    assert {(im.width, im.height) for im in images} == {(48, 48)}
    for im, r in zip(images, records, strict=True):
        (person,) = st.persons_of_image(project, im.id)
        np.testing.assert_allclose(person.box, r.box)
        np.testing.assert_allclose(person.keypoints, r.keypoints, atol=1e-4)
        if fmt == "coco":
            assert person.label_params is None and not person.has_3d
        else:
            np.testing.assert_allclose(person.label_params, label_params([r], body)[0], atol=1e-4)
            assert person.label_source == "gt" and person.has_3d
            np.testing.assert_allclose(person.joints3d, r.joints3d[:, :3], atol=1e-6)
    assert [s.path for s in dataset_sources(project, report.dataset_id)] == [str(path)]


def test_bad_rows_and_files_are_reported_and_the_rest_imported(project, tmp_path, body):
    images = make_images(tmp_path / "imgs", 4)
    records = labelled_records(images, body)
    os.remove(images[1])
    from engine.data.spin_npz import write_spin_npz

    write_spin_npz(tmp_path / "a.npz", records)
    arrays = dict(np.load(tmp_path / "a.npz"))
    arrays["part"][2, 0, 0] = np.nan
    np.savez(tmp_path / "a.npz", **arrays)
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    save_image(tmp_path / "imgs" / "empty.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("hello")
    report = import_dataset(
        project, [tmp_path / "a.npz", tmp_path / "junk.npz", tmp_path / "notes.txt", tmp_path / "gone.npz"],
        name="mix", body=body,
    )
    assert report.images == 2 and report.persons == 2
    where = dict(report.rejected)
    assert set(where) == {
        f"{tmp_path / 'a.npz'}#1", f"{tmp_path / 'a.npz'}#2",
        str(tmp_path / "junk.npz"), str(tmp_path / "notes.txt"), str(tmp_path / "gone.npz"),
    }
    assert "image not found" in where[f"{tmp_path / 'a.npz'}#1"]
    assert "non-finite" in where[f"{tmp_path / 'a.npz'}#2"]
    assert "unknown file type" in where[str(tmp_path / "notes.txt")]


def test_importing_again_adds_nothing_twice(project, tmp_path, body):
    path, _ = write_dataset(tmp_path, "spin", 6, body)
    first = import_dataset(project, [path], name="d", body=body)
    again = import_dataset(project, [path], name="d", body=body)
    assert (first.images, again.images, again.already) == (6, 0, 6)
    assert len(_paths(project, "d")) == len(set(_paths(project, "d"))) == 6
    with pytest.raises(DataError, match="holds spin data; import coco"):
        import_dataset(project, [write_dataset(tmp_path, "coco", 2, body)[0]], name="d")


def test_forced_format_and_unknown_format(project, tmp_path, body):
    path, _ = write_dataset(tmp_path, "prohmr", 2, body)
    forced = import_dataset(project, [path], name="as-spin", format="spin", body=body)
    assert forced.images == 0 and forced.rejected  # a ProHMR file has no SPIN keypoints ('part')
    assert all(where.startswith(str(path)) for where, _ in forced.rejected)
    as_photos = import_dataset(project, [path], name="as-photos", format="images")
    assert as_photos.dataset_id is None and "--format images" in as_photos.rejected[0][1]
    with pytest.raises(DataError, match="unknown import format"):
        import_dataset(project, [path], format="csv")
    with pytest.raises(DataError, match="nothing to import"):
        import_dataset(project, [])


def test_photos_are_detected_and_unreadable_ones_reported(project, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    save_image(folder / "astronaut.png", data.astronaut())
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    report = import_dataset(project, [folder])
    assert (report.dataset, report.format, report.images, report.persons) == ("photos", "images", 1, 1)
    assert [w for w, _ in report.rejected] == [str(folder / "broken.jpg")]
    (image,) = st.list_images(project, report.dataset_id)
    assert (image.width, image.height) == (512, 512)
    (person,) = st.persons_of_image(project, image.id)
    assert person.keypoints[:7, 2].min() > 0.5  # face and shoulders seen


def test_photos_without_detection_then_detect_job_fills_them(project, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    save_image(folder / "a.png", data.astronaut())
    save_image(folder / "b.png", np.full((64, 64, 3), 128, np.uint8))
    report = import_dataset(project, [folder], detect=False)
    assert (report.images, report.persons) == (2, 0)
    skip = tmp_path / "skip.txt"
    out = detect_dataset(project, "photos", skip_file=skip)
    assert (out["images"], out["detected"], len(out["failed"])) == (2, 1, 1)
    assert out["failed"][0][0] == str(folder / "b.png")
    again = detect_dataset(project, "photos", skip_file=skip)
    assert (again["images"], again["detected"], again["skipped"]) == (1, 0, 1)


def test_data_inside_the_project_folder_moves_with_it(tmp_path, body):
    root = tmp_path / "study"
    with st.Project.create(root / "p.adhmr") as p:
        path, _ = write_dataset(root / "data", "spin", 2, body)
        import_dataset(p, [path], name="d", body=body)
        assert not os.path.isabs(st.get_dataset(p, "d").source_path)
    shutil.move(root, tmp_path / "moved")
    with st.Project.open(tmp_path / "moved" / "p.adhmr") as p:
        files = _paths(p, "d")
        assert all(f.startswith(str(tmp_path / "moved")) and os.path.isfile(f) for f in files)
