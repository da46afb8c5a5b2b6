"""A project's samples (the app's Sample action, the sample job) start from each
person's body fit, as ``adhmr sample``'s do."""

import dataclasses

import torch
from project_files import write_dataset

from engine.image_io import load_image
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.sample_settings import SampleSettings
from engine.projects import import_dataset
from engine.projects.sampling import dataset_persons, person_fits, sample_dataset, store_person_samples
from engine.store import sample_runs_of_person


def test_stored_samples_start_from_the_persons_fit_unless_told_not_to(project, tmp_path, body):
    path, _ = write_dataset(tmp_path / "src", "spin", 1, body)
    import_dataset(project, [path], name="d", body=body)
    ((image_path, person),) = dataset_persons(project, "d")
    model = DiffusionHMR.load(body=body)  # the bundled weights: a random net denoises nowhere in particular
    started, free = SampleSettings(num_candidates=4, device="cpu"), SampleSettings(num_candidates=4, device="cpu",
                                                                                    fit_start=0.0)

    (fit,) = person_fits([person], model, body, started)
    assert fit is not None and fit.shape == (1, model.layout.dim)
    assert person_fits([person], model, body, free) == [None]

    image = load_image(image_path)
    near_run, near = store_person_samples(project, image, person, model, body, started, None)
    far_run, far = store_person_samples(project, image, person, model, body, free, None)
    # Each run records how it started.
    runs = {r.id: r.fit_start for r in sample_runs_of_person(project, person.id)}
    assert runs == {near_run: 0.05, far_run: 0.0}

    def spread(cands) -> float:
        moved = model.normalizer.normalize(cands.params[0]) - model.normalizer.normalize(fit)
        return float(moved.norm(dim=-1).mean())

    assert spread(near) < 0.6 * spread(far)
    assert near.num_hypotheses == far.num_hypotheses == 4  # the fit is a start, not a stored candidate
    assert not torch.allclose(near.params, far.params)


def test_people_are_fitted_together_as_alone_and_one_who_cannot_be_is_sampled_from_noise(project, tmp_path, body):
    path, _ = write_dataset(tmp_path / "src", "spin", 3, body)
    import_dataset(project, [path], name="d", body=body)
    people = [person for _, person in dataset_persons(project, "d")]
    hidden = people[1].keypoints.copy()
    hidden[3:, 2] = 0.0  # three keypoints left: too little to place a body
    people[1] = dataclasses.replace(people[1], keypoints=hidden)
    model = DiffusionHMR.load(body=body)
    together = person_fits(people, model, body, SampleSettings())
    assert together[1] is None
    for person, fit in zip((people[0], people[2]), (together[0], together[2])):
        torch.testing.assert_close(fit, person_fits([person], model, body, SampleSettings())[0])


def test_the_sample_job_records_each_run_started_from_the_fit(project, tmp_path, body):
    path, _ = write_dataset(tmp_path / "src", "spin", 2, body)
    import_dataset(project, [path], name="d", body=body)
    out = sample_dataset(project, "d", settings=SampleSettings(num_candidates=2, device="cpu"))
    assert (out["sampled"], out["skipped"]) == (2, 0)
    for _, person in dataset_persons(project, "d"):
        assert [r.fit_start for r in sample_runs_of_person(project, person.id)] == [0.05]
