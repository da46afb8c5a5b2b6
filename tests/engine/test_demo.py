"""The demo project: both synthetic domains, a real photo with keypoints, candidates."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "projects"))  # the data builders
from project_files import tiny_checkpoints  # noqa: E402

from engine import store as st  # noqa: E402
from engine.body.model import BodyModel  # noqa: E402
from engine.demo import PER_DOMAIN, create_demo_project, demo_exists, read_summary  # noqa: E402
from engine.errors import JobCancelled  # noqa: E402
from engine.projects import checkpoints  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo built with small stand-ins for the bundled checkpoints."""
    tmp = tmp_path_factory.mktemp("demo")
    base, scorer = tiny_checkpoints(tmp / "ck", BodyModel())
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(checkpoints.BUNDLED, "base", base.with_suffix(""))
        mp.setitem(checkpoints.BUNDLED, "scorer", scorer.with_suffix(""))
        events = []
        path = create_demo_project(tmp / "demo", progress=events.append)
    return path, events


def _persons(project, name):
    ds = st.get_dataset(project, name)
    return [(im, p) for im in st.list_images(project, ds.id) for p in st.persons_of_image(project, im.id)]


def test_demo_has_both_domains_a_detected_photo_and_candidates(demo):
    path, events = demo
    assert path.name == "demo.adhmr" and demo_exists(path.parent)
    with st.Project.open(path) as project:
        names = [d.name for d in st.list_datasets(project)]
        assert names[:2] == ["synthetic-studio", "synthetic-wild"] and "photos" in names
        for name in ("synthetic-studio", "synthetic-wild"):
            persons = _persons(project, name)
            assert len(persons) == PER_DOMAIN
            assert all(p.label_params is not None and p.has_3d for _, p in persons)
        photos = {Path(im.path).name: p for im, p in _persons(project, "photos")}
        astronaut = photos["astronaut.png"]
        assert astronaut.keypoints[:7, 2].min() > 0.5  # face and shoulders detected
        # The bundled scorer, and its copy calibrated on the demo's candidates: their scores centre on 0.5.
        assert sorted(c.kind for c in st.list_checkpoints(project)) == ["base", "scorer", "scorer"]
        from engine.projects.calibration import dataset_scores

        scores = dataset_scores(project, [d.id for d in st.list_datasets(project)])
        assert abs(float(np.median(scores)) - 0.5) < 0.02
        counts = st.count_images_by_status(project)
        assert counts["unsampled"] == 0 and counts["sampled"] == 2 * PER_DOMAIN + len(photos)
        (run,) = st.sample_runs_of_person(project, astronaut.id)
        cands = st.candidates_of_person(project, astronaut.id, run.id)
        assert all(c.score is not None for c in cands)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    summary = read_summary(path.parent)
    assert summary.checkpoints == ["base", "scorer", "scorer-calibrated"] and summary.sampled == 2 * PER_DOMAIN + len(photos)


def test_a_complete_demo_is_left_as_it_is(demo):
    path, _ = demo
    before = {p: p.stat().st_mtime_ns for p in path.parent.rglob("*") if p.is_file()}
    assert create_demo_project(path.parent) == path
    after = {p: p.stat().st_mtime_ns for p in path.parent.rglob("*") if p.is_file()}
    assert after == before


def test_an_interrupted_demo_is_not_taken_for_a_complete_one(tmp_path):
    with pytest.raises(JobCancelled):
        create_demo_project(tmp_path / "d", should_cancel=lambda: True)
    assert not demo_exists(tmp_path / "d")


def test_demo_needs_a_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    from engine.errors import DataError

    with pytest.raises(DataError, match="is a file"):
        create_demo_project(tmp_path / "file")
