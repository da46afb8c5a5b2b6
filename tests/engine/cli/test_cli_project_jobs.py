"""``adhmr jobs`` end to end: list, show, run, cancel from another process, Ctrl+C, resume."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import store as st
from engine.cli import main
from engine.jobs import get_job, list_jobs

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "study.adhmr"
    assert main(["init", str(path)]) == 0
    return path


def _adhmr(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # A shell starts background commands with SIGINT ignored, and Python then leaves Ctrl+C
    # ignored too: give the child the default disposition, as a terminal would.
    return subprocess.Popen([sys.executable, "-m", "engine.cli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_running(path: Path, timeout: float = 60.0) -> int:
    """The id of the job once it runs and has reported progress."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with st.Project.open(path) as p:
            jobs = list_jobs(p, status="running")
            if jobs and jobs[0].progress > 0:
                return jobs[0].id
        time.sleep(0.1)
    raise AssertionError("the job never reported progress")


def test_run_list_show(project, capsys):
    code = main(["jobs", str(project), "run", "synth", "--param", "n=2", "--param", "domain=studio",
                 "--param", "size=64"])
    out = capsys.readouterr().out
    assert code == 0 and "job 1 done" in out and '"images": 2' in out
    assert main(["jobs", str(project), "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["ID", "KIND", "STATUS", "PROGRESS", "CREATED", "MESSAGE"]
    assert listing[1].split()[:4] == ["1", "synth", "done", "100%"]
    assert main(["jobs", str(project), "show", "1", "--lines", "1"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("job 1: synth, done, 100%")
    assert 'params: {"domain": "studio", "n": 2, "size": 64}' in shown
    assert "log:\n" in shown and shown.rstrip().endswith("done")
    assert main(["jobs", str(project), "show", "9"]) == 1
    assert "no jobs row with id 9" in capsys.readouterr().err


def test_bad_kind_and_params(project, capsys):
    assert main(["jobs", str(project), "run", "nap"]) == 1
    assert "unknown job kind 'nap'" in capsys.readouterr().err
    assert main(["jobs", str(project), "run", "sample", "--param", "M"]) == 2
    assert main(["jobs", str(project), "run", "sample", "--param", "dataset=none", "--param", "M=x"]) == 1
    # Checked against the kind's description before a job is made: nothing to resume.
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "adhmr jobs: error: job sample: parameter 'num_candidates' must be a whole number, got 'x'"
    with st.Project.open(project) as p:
        assert list_jobs(p) == []
    assert main(["jobs", str(project), "kinds"]) == 0
    assert "train-scorer" in capsys.readouterr().out


def test_cancel_from_another_process_then_ctrl_c_then_resume(project, capsys):
    child = _adhmr("jobs", str(project), "run", "synth", "--param", "n=4000", "--param", "domain=wild",
                   "--param", "size=64")
    job = _wait_running(project)
    assert main(["jobs", str(project), "cancel", str(job)]) == 0
    assert "cancel requested" in capsys.readouterr().out
    _, err = child.communicate(timeout=60)
    assert child.returncode == 1 and f"job {job} cancelled" in err
    with st.Project.open(project) as p:
        assert get_job(p, job).status == "cancelled"

    child = _adhmr("jobs", str(project), "resume", str(job))
    _wait_running(project)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130 and f"cancelled job {job}; resume it with" in err
    with st.Project.open(project) as p:
        rec = get_job(p, job)
        assert rec.status == "cancelled" and rec.attempts == 2
        shards = sorted((p.data_dir / "synth" / "synth-wild" / "shards").glob("*.npz"))
    assert shards, "the rendered shards are kept for the resume"
    assert main(["jobs", str(project), "cancel", str(job)]) == 0
    assert "nothing to cancel" in capsys.readouterr().out
