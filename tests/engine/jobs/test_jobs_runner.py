"""The job framework with small job kinds registered here (real work on real files)."""

import threading
import time

import pytest
from sqlalchemy import event

from engine.errors import DataError, StoreError
from engine.jobs import (
    JobSpec,
    cancel_job,
    create_job,
    get_job,
    job_metrics,
    job_state_dir,
    list_jobs,
    register_job,
    resume_job,
    run_job,
)


def steps_job(params, ctx):
    """Appends one line per step to ``state_dir/steps.txt`` and skips steps already there;
    fails once at ``fail_at`` (remembered in the state folder), honours cancel."""
    state = ctx.state_dir / "steps.txt"
    done = state.read_text().splitlines() if state.exists() else []
    ran = 0
    for step in range(len(done), params["n"]):
        ctx.check_cancel()
        if step == params.get("fail_at") and not (ctx.state_dir / "failed-once").exists():
            (ctx.state_dir / "failed-once").touch()
            raise DataError(f"step {step}: simulated bad input")
        with state.open("a") as f:
            f.write(f"step {step}\n")
        ran += 1
        loss = float("nan") if step == params.get("nan_at") else 1.0 / (step + 1)
        ctx.progress((step + 1) / params["n"], f"step {step}", {"loss": loss})
        time.sleep(params.get("sleep", 0))
    return {"ran": ran, "lines": len(state.read_text().splitlines())}


def gate_job(params, ctx):
    """Reports once, then waits for a gate (threading.Event kept in GATES) or a cancel."""
    ctx.progress(0.5, "waiting")
    gate = GATES[params["gate"]]
    while not gate.wait(0.02):
        ctx.check_cancel()
    return {"opened": True}


GATES: dict[str, threading.Event] = {}
register_job("test-steps", steps_job, replace=True)
register_job("test-gate", gate_job, replace=True)
register_job("test-gate-reader", gate_job, writer=False, replace=True)
register_job("test-bug", lambda params, ctx: 1 / 0, replace=True)
register_job("test-bad-outputs", lambda params, ctx: {"when": time}, replace=True)


def test_failed_job_resumes_from_its_state_folder(project):
    spec = JobSpec("test-steps", {"n": 8, "fail_at": 5})
    first = run_job(project, spec)
    assert (first.status, first.error) == ("failed", "step 5: simulated bad input")
    assert get_job(project, first.job_id).progress == pytest.approx(5 / 8)
    second = resume_job(project, first.job_id)
    assert second.ok and second.job_id == first.job_id
    assert second.outputs == {"ran": 3, "lines": 8}
    lines = (job_state_dir(project, first.job_id) / "steps.txt").read_text().splitlines()
    assert lines == [f"step {i}" for i in range(8)]
    job = get_job(project, first.job_id)
    assert job.attempts == 2 and job.error is None
    assert "resuming after it failed" in job.log and "attempt 2" in job.log
    with pytest.raises(StoreError, match="is done, it cannot be resumed"):
        resume_job(project, first.job_id)


@pytest.mark.parametrize("as_flag", [lambda e: e, lambda e: e.is_set], ids=["event", "callable"])
def test_cancel_flag_stops_the_job_and_resume_finishes_it(project, as_flag):
    stop = threading.Event()
    calls = []

    def on_progress(e):
        calls.append(e)
        if len(calls) == 3:
            stop.set()

    result = run_job(project, JobSpec("test-steps", {"n": 10}), on_progress, as_flag(stop))
    assert result.status == "cancelled" and result.error == "cancelled by the user"
    assert get_job(project, result.job_id).status == "cancelled"
    assert resume_job(project, result.job_id).outputs == {"ran": 7, "lines": 10}


def test_cancel_job_from_another_thread_reaches_the_running_job(project):
    GATES["never"] = threading.Event()
    results = []
    worker = threading.Thread(
        target=lambda: results.append(run_job(project, JobSpec("test-gate", {"gate": "never"})))
    )
    worker.start()
    deadline = time.monotonic() + 10
    while not list_jobs(project, status="running") and time.monotonic() < deadline:
        time.sleep(0.02)
    job_id = list_jobs(project, status="running")[0].id
    assert cancel_job(project, job_id) == "cancel_requested"
    worker.join(timeout=10)
    assert results[0].status == "cancelled"
    assert get_job(project, job_id).status == "cancelled"
    assert "cancel requested" in get_job(project, job_id).log


def test_queued_job_can_be_cancelled_before_it_runs(project):
    job_id = create_job(project, "test-steps", {"n": 2})
    assert get_job(project, job_id).status == "queued"
    assert cancel_job(project, job_id) == "cancelled"
    with pytest.raises(StoreError, match="is cancelled, it cannot be started"):
        run_job(project, job_id)
    assert resume_job(project, job_id).ok


def test_progress_reaches_the_callback_every_time_but_the_row_at_most_twice_a_second(project):
    job_updates = []

    def count(conn, cursor, statement, *args):
        if statement.startswith("UPDATE jobs"):
            job_updates.append(statement)

    event.listen(project.engine, "before_cursor_execute", count)
    events = []
    spec = JobSpec("test-steps", {"n": 1500, "nan_at": 20})
    result = run_job(project, spec, progress_cb=events.append)
    event.remove(project.engine, "before_cursor_execute", count)
    assert result.ok
    assert len(events) == 1501  # every step, then "done"
    assert len(job_updates) < 20
    history = job_metrics(project, result.job_id)
    assert len(history) == 1500  # none lost to throttling
    assert history[9] == {"fraction": pytest.approx(10 / 1500), "loss": pytest.approx(0.1)}
    assert history[20]["loss"] is None  # a NaN loss is kept, as null


def test_a_bug_in_a_job_is_recorded_then_raised(project):
    with pytest.raises(ZeroDivisionError):
        run_job(project, JobSpec("test-bug"))
    job = list_jobs(project)[0]
    assert job.status == "failed" and job.error == "ZeroDivisionError: division by zero"
    assert "Traceback" in job.log


def test_ctrl_c_just_after_the_job_is_marked_running_cancels_it(project, monkeypatch):
    """A Ctrl+C landing between 'running' being written and the job's own code starting
    (here: while its first log line is written) ends the job cancelled, not as a
    'running' row left behind that reads as crashed."""
    from engine.jobs.context import JobContext

    real_log = JobContext.log

    def interrupted(self, line):
        if line.startswith("attempt"):
            raise KeyboardInterrupt
        return real_log(self, line)

    monkeypatch.setattr(JobContext, "log", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_job(project, JobSpec("test-steps", {"n": 3}))
    job = list_jobs(project)[0]
    assert job.status == "cancelled" and job.error == "interrupted" and job.attempts == 1
    monkeypatch.setattr(JobContext, "log", real_log)
    assert resume_job(project, job.id).outputs == {"ran": 3, "lines": 3}


def test_outputs_that_are_not_json_fail_the_job(project):
    result = run_job(project, JobSpec("test-bad-outputs"))
    assert result.status == "failed" and "must be plain JSON" in result.error


def test_bad_specs_are_refused_before_any_row_is_made(project):
    with pytest.raises(StoreError, match="unknown job kind 'train-magic'"):
        run_job(project, JobSpec("train-magic"))
    with pytest.raises(StoreError, match="must be plain JSON"):
        run_job(project, JobSpec("test-steps", {"n": float("nan")}))
    assert list_jobs(project) == []


def test_one_writer_job_at_a_time_within_a_process(project):
    GATES["first"] = threading.Event()
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault(
            "first", run_job(project, JobSpec("test-gate", {"gate": "first"}))
        )
    )
    first.start()
    deadline = time.monotonic() + 10
    while not list_jobs(project, status="running") and time.monotonic() < deadline:
        time.sleep(0.02)
    running = list_jobs(project, status="running")[0].id
    with pytest.raises(
        StoreError,
        match=f"busy, job {running} \\(test-gate, pid .* holds the project's writer lock",
    ):
        run_job(project, JobSpec("test-steps", {"n": 1}))
    GATES["reader"] = threading.Event()
    GATES["reader"].set()
    assert run_job(project, JobSpec("test-gate-reader", {"gate": "reader"})).ok  # not a writer
    waiting = threading.Thread(
        target=lambda: results.setdefault(
            "second", run_job(project, JobSpec("test-steps", {"n": 1}), lock_timeout=10)
        )
    )
    waiting.start()
    time.sleep(0.3)
    assert "second" not in results
    GATES["first"].set()
    first.join(timeout=10)
    waiting.join(timeout=10)
    assert results["first"].ok and results["second"].ok


def test_built_in_kinds_register_on_first_lookup_without_an_import(tmp_path):
    # A fresh interpreter: nothing has imported engine.jobs.kinds yet.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from engine.jobs import registered_kinds\n"
        "assert 'engine.jobs.kinds' not in sys.modules\n"
        "print(' '.join(registered_kinds()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert {"sample", "pairs", "dpo", "clean", "train-scorer"} <= set(out.stdout.split())
