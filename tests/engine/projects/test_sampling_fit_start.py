"""A project's samples (the app's Sample action, the sample job) start from each
person's body fit, as ``adhmr sample``'s do."""

import dataclasses

import torch
from project_files import write_dataset

from engine.image_io import load_image
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.sample_settings import SampleSettings
from engine.projects import import_dataset
from engine.projects.sampling import dataset_persons, person_fit, store_person_samples
from engine.store import sample_runs_of_person


def test_stored_samples_start_from_the_persons_fit_unless_told_not_to(project, tmp_path, body):
    path, _ = write_dataset(tmp_path / "src", "spin", 1, body)
    import_dataset(project, [path], name="d", body=body)
    ((image_path, person),) = dataset_persons(project, "d")
    model = DiffusionHMR.load(body=body)  # the bundled weights: a random net denoises nowhere in particular
    started, free = SampleSettings(num_candidates=4, device="cpu"), SampleSettings(num_candidates=4, device="cpu",
                                                                                    fit_start=0.0)

    fit = person_fit(person, model, body, started)
    assert fit is not None and fit.shape == (1, model.layout.dim)
    assert person_fit(person, model, body, free) is None

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


def test_a_person_with_too_few_keypoints_is_sampled_from_noise(project, tmp_path, body):
    path, _ = write_dataset(tmp_path / "src", "spin", 1, body)
    import_dataset(project, [path], name="d", body=body)
    ((_, person),) = dataset_persons(project, "d")
    hidden = person.keypoints.copy()
    hidden[3:, 2] = 0.0  # three keypoints left: too little to place a body
    model = DiffusionHMR.load(body=body)
    assert person_fit(dataclasses.replace(person, keypoints=hidden), model, body, SampleSettings()) is None
