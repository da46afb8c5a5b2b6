from jobs_helpers import image_dataset, stored_hashes

from engine import store as st
from engine.jobs import JobSpec, get_job, registered_kinds, run_job

SPEC = JobSpec("hash-images", {"dataset": "imgs"})


def test_hash_images_is_built_in():
    assert "hash-images" in registered_kinds()


def test_every_image_gets_its_content_hash(project):
    expected = image_dataset(project, 120)
    events = []
    result = run_job(project, SPEC, progress_cb=events.append)
    assert result.ok
    assert result.outputs == {
        "dataset": "imgs",
        "total": 120,
        "hashed": 120,
        "skipped": 0,
        "missing": 0,
    }
    assert stored_hashes(project) == expected
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "120/120 images of imgs hashed" in [e.message for e in events]
    job = get_job(project, result.job_id)
    assert (job.status, job.progress, job.attempts) == ("done", 1.0, 1)


def test_a_second_run_skips_what_is_done(project):
    image_dataset(project, 30)
    run_job(project, SPEC)
    again = run_job(project, SPEC)
    assert again.outputs["skipped"] == 30 and again.outputs["hashed"] == 0


def test_missing_files_are_counted_logged_and_retried_later(project):
    expected = image_dataset(project, 10)
    gone = project.path.parent / "imgs" / "0003.bin"
    data = gone.read_bytes()
    gone.unlink()
    result = run_job(project, SPEC)
    assert result.ok and result.outputs["missing"] == 1 and result.outputs["hashed"] == 9
    assert "cannot read" in get_job(project, result.job_id).log
    hashes = stored_hashes(project)
    assert sum(h is None for h in hashes.values()) == 1
    gone.write_bytes(data)
    assert run_job(project, SPEC).outputs == {
        "dataset": "imgs",
        "total": 10,
        "hashed": 1,
        "skipped": 9,
        "missing": 0,
    }
    assert stored_hashes(project) == expected


def test_unknown_dataset_fails_the_job_with_a_clear_error(project):
    result = run_job(project, JobSpec("hash-images", {"dataset": "nope"}))
    assert result.status == "failed"
    assert result.error == "no dataset 'nope' in this project"
    assert get_job(project, result.job_id).error == result.error
    assert st.list_datasets(project) == []
