"""The "synth" and "import" job kinds: a rendered dataset lands in the project."""

import numpy as np

import engine.jobs.kinds  # noqa: F401
from engine import store as st
from engine.jobs import JobSpec, get_job, registered_kinds, resume_job, run_job


def test_all_kinds_are_registered():
    assert {"import", "detect", "synth", "sample", "score", "train-base", "train-scorer", "eval"} <= set(
        registered_kinds()
    )


def test_synth_job_renders_and_imports_with_labels_and_resumes(project):
    seen = []
    params = {"n": 3, "domain": "wild", "size": 64, "seed": 3}
    stopped = run_job(project, JobSpec("synth", params), progress_cb=seen.append,
                      cancel_flag=lambda: len(seen) >= 1)
    assert stopped.status == "cancelled"
    done = resume_job(project, stopped.job_id)
    assert done.ok, done.error
    out = done.outputs
    assert (out["dataset"], out["format"], out["images"], out["persons"], out["rejected"]) == (
        "synth-wild", "spin", 3, 3, [])
    assert out["annotations"].startswith(str(project.data_dir / "synth" / "synth-wild"))
    ds = st.get_dataset(project, "synth-wild")
    persons = [p for im in st.list_images(project, ds.id) for p in st.persons_of_image(project, im.id)]
    assert len(persons) == 3
    assert all(p.label_params is not None and p.has_3d and p.label_source == "gt" for p in persons)
    assert all(np.isfinite(p.label_params).all() for p in persons)
    fractions = [e.fraction for e in seen]
    assert fractions == sorted(fractions)


def test_import_job_reports_rejected_files_in_its_outputs_and_log(project, tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 broken")
    result = run_job(project, JobSpec("import", {"paths": [str(tmp_path / "bad.npz")], "name": "x"}))
    assert result.ok
    assert result.outputs["images"] == 0 and result.outputs["dataset_id"] is None
    (where, why), = result.outputs["rejected"]
    assert where == str(tmp_path / "bad.npz") and "not a readable .npz" in why
    assert f"rejected {tmp_path / 'bad.npz'}: " in get_job(project, result.job_id).log
    assert st.list_datasets(project) == []
