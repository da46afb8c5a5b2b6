"""The "train-base", "train-scorer" and "eval" job kinds on a project dataset."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import tiny_checkpoints, write_dataset  # noqa: E402

import engine.jobs.kinds  # noqa: E402, F401
from engine import store as st  # noqa: E402
from engine.jobs import JobSpec, get_job, job_state_dir, resume_job, run_job  # noqa: E402
from engine.projects import import_dataset  # noqa: E402

TINY_BASE = {"crop_size": 32, "width": 16, "layers": 1, "heads": 2, "workers": 0, "log_every": 1,
             "warmup_steps": 1, "batch_size": 2, "val_batches": 1, "save_every": 1, "augment": False}
TINY_SCORER = {"crop_size": 32, "width": 16, "layers": 1, "heads": 2, "batch_size": 2,
               "candidates_per_image": 4, "val_every": 2, "save_every": 1, "val_images": 2, "warmup_steps": 1}



@pytest.fixture
def labelled(project, tmp_path, body):
    path, _ = write_dataset(tmp_path / "src", "spin", 4, body)
    import_dataset(project, [path], name="d", body=body)
    return project


def test_train_base_job_resumes_and_registers_its_checkpoint(labelled):
    project = labelled
    seen = []
    params = {"dataset": "d", "steps": 3, **TINY_BASE}
    stopped = run_job(project, JobSpec("train-base", params), progress_cb=seen.append,
                      cancel_flag=lambda: any("loss" in e.metrics for e in seen))
    assert stopped.status == "cancelled"
    assert (job_state_dir(project, stopped.job_id) / "dataset-d.npz").is_file()
    done = resume_job(project, stopped.job_id)
    assert done.ok, done.error
    assert "resuming from" in get_job(project, stopped.job_id).log
    (ckpt,) = st.list_checkpoints(project, "base")
    assert (ckpt.id, ckpt.path) == (done.outputs["checkpoint_id"], done.outputs["checkpoint"])
    assert ckpt.path.startswith(str(project.data_dir / "checkpoints" / f"base-job{stopped.job_id}"))
    assert ckpt.config["kind"] == "base"


def test_train_scorer_then_eval_on_the_project(labelled, tmp_path, body):
    project = labelled
    base, _ = tiny_checkpoints(tmp_path / "ck", body)
    scorer = run_job(project, JobSpec("train-scorer", {"dataset": "d", "steps": 2, "base": str(base),
                                                       "base_candidates": 1, **TINY_SCORER}))
    assert scorer.ok, scorer.error
    assert [c.kind for c in st.list_checkpoints(project)] == ["base", "scorer"]
    ev = run_job(project, JobSpec("eval", {"dataset": "d", "M": 3, "max_images": 2}))
    assert ev.ok, ev.error
    assert ev.outputs["checkpoint_id"] == st.list_checkpoints(project, "base")[0].id
    assert ev.outputs["settings"]["num_images"] == 2
    assert ev.outputs["settings"]["scorer"] == scorer.outputs["checkpoint"]
    assert set(ev.outputs["scorer_correlation"]) == {"MPJPE", "PA-MPJPE", "PVE"}
    assert "Zero-noise" in Path(ev.outputs["report"]).read_text()


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("train-base", {"dataset": "d", "stepz": 3}, "unknown parameter stepz"),
        ("train-base", {"dataset": "d", "steps": "many"}, "parameter 'steps' must be a whole number, got 'many'"),
        ("train-base", {"dataset": "d", "lr": 0}, "parameter 'lr' must be > 0, got 0.0"),
        ("train-base", {"dataset": "d", "resume": True}, "'resume' is automatic"),
        ("train-scorer", {"dataset": "d", "data": "x.npz"}, "give 'data' or 'dataset', not both"),
        ("eval", {"M": 2}, "exactly one of 'data'"),
        ("eval", {"dataset": "d", "M": "x"}, "'num_candidates' must be a whole number"),
        ("sample", {}, "'dataset' is required"),
        ("import", {"paths": [1, 2]}, "'paths' must be a path or a list of paths"),
        ("synth", {"n": 2, "domain": "moon"}, "moon"),
    ],
)
def test_bad_params_fail_the_job_with_a_reason(labelled, kind, params, message):
    result = run_job(labelled, JobSpec(kind, params))
    assert result.status == "failed" and message in result.error
