"""An error metric is one registration: a metric registered here is computed for every
labelled candidate a sample job makes and stored with it, with no schema change; old
projects' errors survive the move to the keyed store (and back)."""

import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
from alembic import command

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import tiny_checkpoints, write_dataset  # noqa: E402

from engine import store as st  # noqa: E402
from engine.jobs import JobSpec, run_job  # noqa: E402
from engine.metric_registry import ErrorMetric, compute_errors, register_metric, unregister_metric  # noqa: E402
from engine.metrics import mpjpe  # noqa: E402
from engine.projects import import_dataset  # noqa: E402
from engine.store import migrate  # noqa: E402


def worst_joint(joints, vertices, gt_joints, gt_vertices):
    """(N,) the largest pelvis-aligned joint distance, mm."""
    a, b = joints - joints[:, :1], gt_joints - gt_joints[:, :1]
    return ((a - b) ** 2).sum(-1).sqrt().amax(-1) * 1000.0


@pytest.fixture
def worst_joint_metric():
    register_metric(ErrorMetric("worst_joint", "Worst joint", "mm", worst_joint))
    yield
    unregister_metric("worst_joint")


def test_a_registered_metric_is_computed_and_stored(worst_joint_metric, project, tmp_path, body):
    revision = project.revision
    path, _ = write_dataset(tmp_path / "src", "spin", 2, body)
    import_dataset(project, [path], name="d", body=body)
    base, _ = tiny_checkpoints(tmp_path / "ck", body)
    assert run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": str(base), "num_candidates": 3})).ok
    ds = st.get_dataset(project, "d").id
    people = [p for im in st.list_images(project, ds) for p in st.persons_of_image(project, im.id)]
    for person in people:
        cands = st.candidates_of_person(project, person.id)
        assert len(cands) == 3
        for c in cands:
            assert set(c.errors) == {"mpjpe", "pa_mpjpe", "pve", "worst_joint"}
            assert c.error("worst_joint") >= c.error("mpjpe") > 0  # the worst joint bounds the mean
    assert project.revision == revision  # no migration


def test_compute_errors_leaves_out_vertex_metrics_without_vertices(worst_joint_metric):
    import torch

    g = torch.Generator().manual_seed(0)
    joints, gt = torch.randn(4, 24, 3, generator=g), torch.randn(4, 24, 3, generator=g)
    errors = compute_errors(joints, None, gt, None)
    assert set(errors) == {"mpjpe", "pa_mpjpe", "worst_joint"}
    torch.testing.assert_close(errors["mpjpe"], mpjpe(joints, gt))


def test_old_error_columns_move_into_the_keyed_store_and_back(tmp_path):
    path = tmp_path / "p.adhmr"
    with st.Project.create(path) as p:
        ds = st.add_dataset(p, "d", "folder")
        image = st.add_image(p, ds, "a.png")
        person = st.add_person(p, image, np.array([0, 0, 10, 10], np.float32), np.zeros((17, 3), np.float32))
        st.add_sample_run(p, person, np.ones((2, 157)), seed=0, steps=4,
                          errors={"mpjpe": [50.0, 60.0], "pa_mpjpe": [30.0, 40.0], "pve": [70.0, 80.0]})
        st.add_sample_run(p, person, np.ones((1, 157)), seed=1, steps=4)
        with p.engine.begin() as conn:
            command.downgrade(migrate._config(conn), "0003")
    rows = sqlite3.connect(path).execute("SELECT mpjpe, pa_mpjpe, pve FROM candidates ORDER BY id").fetchall()
    assert rows == [(50.0, 30.0, 70.0), (60.0, 40.0, 80.0), (None, None, None)]
    with st.Project.open(path) as p:  # upgraded on open
        cands = st.candidates_of_person(p, person)
        assert [dict(c.errors) for c in cands] == [{"mpjpe": 50.0, "pa_mpjpe": 30.0, "pve": 70.0},
                                                   {"mpjpe": 60.0, "pa_mpjpe": 40.0, "pve": 80.0}, {}]
