"""An import job killed with SIGKILL resumes to the uninterrupted result, without duplicates."""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
from project_files import keypoint_records, make_images

import engine.jobs.kinds  # noqa: F401
from engine import store as st
from engine.data.spin_npz import write_spin_npz
from engine.jobs import JobSpec, list_jobs, resume_job, run_job

N_IMAGES = 600
REPO = Path(__file__).resolve().parents[3]


def _contents(project):
    ds = st.get_dataset(project, "big")
    rows = []
    for image in st.list_images(project, ds.id):
        for person in st.persons_of_image(project, image.id):
            rows.append((image.path, image.sha256, tuple(person.box), person.keypoints.tobytes()))
    return rows


def test_kill_9_mid_import_then_resume(tmp_path):
    images = make_images(tmp_path / "data" / "images", N_IMAGES, size=16)
    source = tmp_path / "data" / "big.npz"
    write_spin_npz(source, keypoint_records(images))
    with st.Project.create(tmp_path / "ref.adhmr") as ref:
        assert run_job(ref, JobSpec("import", {"paths": [str(source)], "name": "big"})).ok
        expected = _contents(ref)
    assert len(expected) == N_IMAGES

    path = tmp_path / "study.adhmr"
    st.Project.create(path).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_child_import.py")), str(path), str(source)],
        env=env, text=True, stdout=subprocess.PIPE,
    )
    fractions = []
    while len(fractions) < 4:
        line = child.stdout.readline()
        assert line and not line.startswith("result"), "the import ended before the kill"
        fractions.append(float(line))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    with st.Project.open(path) as p:
        (job,) = list_jobs(p)
        assert job.status == "crashed"
        partial = _contents(p)
        assert 0 < len(partial) < N_IMAGES, "the kill should land after a committed batch"
        assert set(partial) <= set(expected)
        result = resume_job(p, job.id)
        assert result.ok
        assert result.outputs["already"] == len(partial)
        assert result.outputs["images"] == N_IMAGES - len(partial)
        final = _contents(p)
        assert sorted(final) == sorted(expected)
        assert len({row[0] for row in final}) == N_IMAGES  # no image twice
        np.testing.assert_array_equal(sorted(fractions), fractions)
