"""Jobs across processes: a killed job resumes to the same result; writers exclude each other."""

import signal
import sqlite3
import subprocess

import pytest
from jobs_helpers import image_dataset, python_child, stored_hashes

from engine import store as st
from engine.errors import StoreError
from engine.jobs import JobSpec, cancel_job, get_job, list_jobs, resume_job, run_job

N_IMAGES = 400


@pytest.fixture
def hashed_elsewhere(tmp_path):
    """The hashes an uninterrupted run records on an identical dataset."""
    with st.Project.create(tmp_path / "ref" / "ref.adhmr") as ref:
        expected = image_dataset(ref, N_IMAGES)
        assert run_job(ref, JobSpec("hash-images", {"dataset": "imgs"})).ok
        hashes = stored_hashes(ref)
    assert hashes == expected
    return hashes


def test_kill_9_mid_job_then_resume_gives_the_uninterrupted_result(project, hashed_elsewhere):
    image_dataset(project, N_IMAGES)
    project.close()
    child = python_child("_child_job.py", str(project.path), "slow", stdout=subprocess.PIPE)
    for _ in range(100):
        child.stdout.readline()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    conn = sqlite3.connect(project.path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    with st.Project.open(project.path) as p:
        job = list_jobs(p)[0]
        assert job.status == "crashed" and job.pid == child.pid
        partial = stored_hashes(p)
        n_done = sum(h is not None for h in partial.values())
        assert 0 < n_done < N_IMAGES, "the kill should land mid-job, after a committed batch"
        assert all(partial[i] == hashed_elsewhere[i] for i, h in partial.items() if h is not None)
        with pytest.raises(StoreError, match="is crashed, it cannot be started"):
            run_job(p, job.id)
        result = resume_job(p, job.id)
        assert result.ok and result.outputs["skipped"] == n_done
        assert result.outputs["hashed"] == N_IMAGES - n_done
        assert stored_hashes(p) == hashed_elsewhere
        assert get_job(p, job.id).attempts == 2


def test_crashed_job_can_be_cancelled_instead(project):
    image_dataset(project, N_IMAGES)
    project.close()
    child = python_child("_child_job.py", str(project.path), "slow", stdout=subprocess.PIPE)
    child.stdout.readline()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    with st.Project.open(project.path) as p:
        job_id = list_jobs(p)[0].id
        assert get_job(p, job_id).status == "crashed"
        assert cancel_job(p, job_id) == "cancelled"


def test_second_process_is_refused_while_a_writer_job_runs(project):
    expected = image_dataset(project, 50)
    child = python_child(
        "_child_job.py", str(project.path), "hold", stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdout.readline().strip() == "started"
    running = list_jobs(project, status="running")
    assert [j.pid for j in running] == [child.pid]
    with pytest.raises(
        StoreError, match=f"busy, job {running[0].id} \\(hash-images, pid {child.pid} "
    ):
        run_job(project, JobSpec("hash-images", {"dataset": "imgs"}))
    with pytest.raises(StoreError, match="busy"):
        resume_job(project, running[0].id)
    assert len(list_jobs(project)) == 1  # the refused run left no row behind
    child.stdin.close()
    assert child.stdout.read().strip() == "result done"
    assert child.wait(timeout=30) == 0
    child.stdout.close()
    assert stored_hashes(project) == expected
    assert run_job(project, JobSpec("hash-images", {"dataset": "imgs"})).outputs["skipped"] == 50
    conn = sqlite3.connect(project.path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
