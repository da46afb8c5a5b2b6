"""Photos with several people: one person row each, with the detector's outputs stored."""

import numpy as np
import pytest

from engine import store as st
from engine.data.masks import decode_mask
from engine.data.synth import SynthBody
from engine.data.synth.composite import STREET, scene
from engine.detect import PoseDetector
from engine.errors import ShapeError
from engine.image_io import save_image
from engine.projects import detect_dataset, import_dataset


@pytest.fixture(scope="module")
def street_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("street") / "street.png"
    save_image(path, scene(SynthBody.load(), STREET).image)
    return path


@pytest.fixture(scope="module")
def detector():
    return PoseDetector()


def _check_person(p: st.PersonRecord) -> None:
    assert p.landmarks.shape == (33, 4) and p.world_landmarks.shape == (33, 3)
    assert p.landmark_visibility.shape == p.landmark_presence.shape == (33,)
    assert 0.5 <= p.detection_score <= 1
    mask = decode_mask(p.mask)
    assert mask.shape == (720, 1280)
    x0, y0, x1, y1 = (int(v) for v in p.box)
    assert mask[y0:y1, x0:x1].sum() > 0.8 * mask.sum()  # the mask lies in the box


def test_import_makes_one_person_per_detection(project, street_file, detector):
    report = import_dataset(project, [street_file], detector=detector)
    assert (report.images, report.persons) == (1, 4)
    (image,) = st.list_images(project, report.dataset_id)
    persons = st.persons_of_image(project, image.id)
    assert len(persons) == 4
    for p in persons:
        _check_person(p)
    # Largest first, as the detector orders them.
    areas = [(p.box[2] - p.box[0]) * (p.box[3] - p.box[1]) for p in persons]
    assert areas == sorted(areas, reverse=True)


def test_import_thresholds_come_with_the_detector(project, street_file):
    strict = PoseDetector(min_size=500)
    report = import_dataset(project, [street_file], name="big-only", detector=strict)
    assert 1 <= report.persons < 4


def test_detect_job_fills_every_person(project, street_file, detector):
    report = import_dataset(project, [street_file], name="later", detect=False)
    out = detect_dataset(project, "later", detector=detector)
    assert out["detected"] == 1
    (image,) = st.list_images(project, report.dataset_id)
    persons = st.persons_of_image(project, image.id)
    assert len(persons) == 4
    _check_person(persons[0])


def test_person_rows_without_detector_outputs(project):
    ds = st.add_dataset(project, "plain", "spin")
    image_id = st.add_image(project, ds, "a.png")
    pid = st.add_person(project, image_id, (0, 0, 10, 10), np.zeros((17, 3)))
    p = st.get_person(project, pid)
    assert p.world_landmarks is None and p.mask is None and p.detection_score is None
    with pytest.raises(ShapeError, match="world_landmarks"):
        st.add_person(project, image_id, (0, 0, 10, 10), np.zeros((17, 3)),
                      detector={"world_landmarks": np.zeros((17, 3))})


@pytest.mark.parametrize("fmt, suffix", [("spin", "npz"), ("prohmr", "npz"), ("coco", "json")])
def test_exports_carry_the_detector_outputs(project, street_file, detector, tmp_path, fmt, suffix):
    from engine.data.load import read_annotation_file
    from engine.projects import export_dataset

    report = import_dataset(project, [street_file], detector=detector)
    (image,) = st.list_images(project, report.dataset_id)
    persons = st.persons_of_image(project, image.id)
    out = tmp_path / f"street.{suffix}"
    export_dataset(project, report.dataset, out, format=fmt)
    records = read_annotation_file(out).records
    assert len(records) == 4
    for r, p in zip(records, persons, strict=True):
        np.testing.assert_allclose(r.world_landmarks, p.world_landmarks, atol=1e-5)
        np.testing.assert_allclose(r.landmark_visibility, p.landmark_visibility, atol=1e-5)
        np.testing.assert_allclose(r.landmark_presence, p.landmark_presence, atol=1e-5)
        assert r.mask == p.mask
