"""The "sample" and "score" job kinds: candidates for every person, stored, resumable."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import tiny_checkpoints, write_dataset  # noqa: E402

import engine.jobs.kinds  # noqa: E402, F401
from engine import store as st  # noqa: E402
from engine.diffusion import DEFAULT_STEPS  # noqa: E402
from engine.jobs import JobSpec, get_job, resume_job, run_job  # noqa: E402
from engine.projects import import_dataset  # noqa: E402

N = 3



@pytest.fixture
def sampled_setup(project, tmp_path, body):
    path, _ = write_dataset(tmp_path / "src", "spin", N, body)
    import_dataset(project, [path], name="d", body=body)
    base, scorer = tiny_checkpoints(tmp_path / "ck", body)
    return project, str(base), str(scorer)


def _runs(project):
    ds = st.get_dataset(project, "d").id
    persons = [p for im in st.list_images(project, ds) for p in st.persons_of_image(project, im.id)]
    return {p.id: st.sample_runs_of_person(project, p.id) for p in persons}


def test_sample_job_stores_scored_candidates_with_errors(sampled_setup):
    project, base, scorer = sampled_setup
    result = run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": base, "scorer": scorer, "M": 4}))
    assert result.ok, result.error
    out = result.outputs
    assert (out["persons"], out["sampled"], out["skipped"], out["failed"]) == (N, N, 0, 0)
    kinds = {c.id: c.kind for c in st.list_checkpoints(project)}
    assert kinds == {out["checkpoint_id"]: "base", out["scorer_id"]: "scorer"}
    for pid, runs in _runs(project).items():
        (run,) = runs
        assert (run.m, run.steps, run.seed, run.checkpoint_id) == (4, DEFAULT_STEPS, 0, out["checkpoint_id"])
        cands = st.candidates_of_person(project, pid)
        assert [c.index for c in cands] == [0, 1, 2, 3]
        assert all(0 < c.score < 1 and set(c.errors) == {"mpjpe", "pa_mpjpe", "pve"} and min(c.errors.values()) > 0
                   for c in cands)
        assert all(c.params.shape == (157,) and np.isfinite(c.params).all() for c in cands)

    again = run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": base, "M": 4}))
    assert (again.outputs["sampled"], again.outputs["skipped"]) == (0, N)
    other_seed = run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": "latest", "seed": 1, "M": 2}))
    assert other_seed.outputs["sampled"] == N and other_seed.outputs["scorer_id"] is None
    assert all(len(runs) == 2 for runs in _runs(project).values())


def test_cancelled_sample_job_resumes_without_duplicates(sampled_setup):
    project, base, _ = sampled_setup
    reports = []

    def stop_after_first(event):
        reports.append(event)

    result = run_job(
        project, JobSpec("sample", {"dataset": "d", "checkpoint": base, "M": 3}),
        progress_cb=stop_after_first, cancel_flag=lambda: len(reports) >= 1,
    )
    assert result.status == "cancelled"
    assert sum(len(r) for r in _runs(project).values()) == 1
    resumed = resume_job(project, result.job_id)
    assert resumed.ok and (resumed.outputs["sampled"], resumed.outputs["skipped"]) == (N - 1, 1)
    assert all(len(r) == 1 for r in _runs(project).values())
    assert get_job(project, result.job_id).attempts == 2


def test_score_job_rescores_stored_candidates_and_resumes(sampled_setup):
    project, base, scorer = sampled_setup
    first = run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": base, "scorer": scorer, "M": 3}))
    pids = list(_runs(project))
    want = {c.id: c.score for pid in pids for c in st.candidates_of_person(project, pid)}
    st.set_candidate_scores(project, {cid: 0.5 for cid in want})
    seen = []
    cancelled = run_job(project, JobSpec("score", {"dataset": "d", "scorer": first.outputs["scorer_id"]}),
                        progress_cb=seen.append, cancel_flag=lambda: len(seen) >= 1)
    assert cancelled.status == "cancelled"
    result = resume_job(project, cancelled.job_id)
    assert result.ok and (result.outputs["scored"], result.outputs["skipped"]) == (N - 1, 1)
    got = {c.id: c.score for pid in pids for c in st.candidates_of_person(project, pid)}
    assert got == pytest.approx(want, abs=1e-5)


def test_sample_job_without_any_base_checkpoint_fails_with_a_reason(sampled_setup, monkeypatch):
    project, _, _ = sampled_setup
    import engine.projects.checkpoints as ck

    monkeypatch.setitem(ck.BUNDLED, "base", Path("/nonexistent/base"))
    result = run_job(project, JobSpec("sample", {"dataset": "d"}))
    assert result.status == "failed" and "no base checkpoint" in result.error


def test_an_unreadable_image_is_counted_and_the_others_go_on(sampled_setup, caplog):
    project, base, scorer = sampled_setup
    from engine.projects.sampling import dataset_persons

    first = run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": base, "scorer": scorer, "M": 3}))
    path, person = dataset_persons(project, "d")[0]
    path.write_bytes(b"not an image any more")
    scored = run_job(project, JobSpec("score", {"dataset": "d", "scorer": first.outputs["scorer_id"]}))
    assert scored.ok, scored.error
    assert (scored.outputs["scored"], scored.outputs["failed"]) == (N - 1, 1)
    assert f"person {person.id}:" in caplog.text and path.name in caplog.text
    again = run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": base, "seed": 1, "M": 3}))
    assert again.ok and (again.outputs["sampled"], again.outputs["failed"]) == (N - 1, 1)
    assert len(_runs(project)[person.id]) == 1  # only the run from before the file broke


def test_score_job_can_leave_the_consensus_term_out(sampled_setup, tmp_path):
    import json

    project, base, scorer = sampled_setup
    assert run_job(project, JobSpec("sample", {"dataset": "d", "checkpoint": base, "M": 4})).ok
    weighted = tmp_path / "weighted"
    config = json.loads(Path(scorer).with_suffix(".json").read_text())
    config["consensus"] = {"weight_per_mm": 1.0}
    weighted.with_suffix(".json").write_text(json.dumps(config))
    weighted.with_suffix(".safetensors").write_bytes(Path(scorer).with_suffix(".safetensors").read_bytes())

    def scores(ref, **extra):
        assert run_job(project, JobSpec("score", {"dataset": "d", "scorer": str(ref), **extra})).ok
        return np.array([c.score for pid in _runs(project) for c in st.candidates_of_person(project, pid)])

    network = scores(scorer)
    np.testing.assert_allclose(scores(weighted, consensus=False), network, atol=1e-6)
    assert np.abs(scores(weighted) - network).max() > 1e-3
