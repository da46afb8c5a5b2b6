"""Pseudo-labels from the body fit: ``fit_dataset``, the "fit" job and ``adhmr fit --project``."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fitting"))
from fit_data import make_people  # noqa: E402

import engine.jobs.kinds  # noqa: E402, F401
from engine import store as st  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.data.crops import square_crop  # noqa: E402
from engine.fitting import FitConfig  # noqa: E402
from engine.jobs import JobSpec, resume_job, run_job  # noqa: E402
from engine.models.candidates import decode_candidates  # noqa: E402
from engine.models.param_layout import ParamLayout  # noqa: E402
from engine.projects.fitting import fit_dataset  # noqa: E402

BOXES = np.array([[200, 50, 400, 450], [40, 100, 160, 330], [500, 20, 620, 300]], np.float32)
FAST = FitConfig(camera_steps=15, body_steps=40)


def _add_people(project, body, n=3):
    """A dataset 'd' of n one-person images whose keypoints are the projections of known
    bodies; a fourth image holds a person with a ground-truth label. Returns person ids."""
    _, _, _, kp, _ = make_people(body, n, seed=7)
    ds = st.add_dataset(project, "d", "folder")
    ids = []
    for i in range(n):
        centre, size = square_crop(BOXES[i])
        px = kp[i].numpy().copy()
        px[:, :2] = centre + px[:, :2] * size / 2
        image = st.add_image(project, ds, f"img{i}.jpg", width=640, height=480)
        ids.append(st.add_person(project, image, BOXES[i].tolist(), px))
    gt_image = st.add_image(project, ds, "gt.jpg", width=640, height=480)
    gt_label = np.zeros(ParamLayout().dim, np.float32)
    gt = st.add_person(project, gt_image, BOXES[0].tolist(), np.ones((17, 3), np.float32),
                       label_params=gt_label, label_source="gt")
    return ids, gt


def test_fit_dataset_stores_pseudo_labels_that_land_on_the_keypoints(project, body):
    ids, gt = _add_people(project, body)
    flat = st.add_person(project, st.add_image(project, st.get_dataset(project, "d").id, "flat.jpg"),
                         [50, 50, 50, 50], st.get_person(project, ids[0]).keypoints)
    events = []
    out = fit_dataset(project, "d", body=body, config=FAST, progress=events.append)
    assert (out["persons"], out["fitted"], out["skipped"], out["source"]) == (3, 3, 1, "fit")
    assert st.get_person(project, flat).label_params is None
    assert out["mean_reprojection_px"] < 5
    assert events[-1].fraction == 1.0 and all(0 <= e.fraction <= 1 for e in events)
    for pid, box in zip(ids, BOXES, strict=True):
        person = st.get_person(project, pid)
        assert person.label_source == "pseudo" and person.label_params.shape == (157,)
        centre, size = square_crop(box)
        c = decode_candidates(torch.from_numpy(person.label_params)[None, None], ParamLayout(), body,
                              torch.tensor(np.array([centre]), dtype=torch.float32), torch.tensor([size], dtype=torch.float32))
        err = np.linalg.norm(c.keypoints_px[0, 0].numpy() - person.keypoints[:, :2], axis=-1)
        assert err.mean() < 0.02 * size, err
    kept = st.get_person(project, gt)
    assert kept.label_source == "gt" and not kept.label_params.any()
    again = fit_dataset(project, "d", body=body, config=FAST)
    assert (again["persons"], again["fitted"]) == (0, 0)


def test_fit_job_reports_progress_cancels_and_resumes(project, body):
    ids, _ = _add_people(project, body, n=2)
    seen = []
    spec = JobSpec("fit", {"dataset": "d", "steps": 5, "device": "cpu"})
    cancelled = run_job(project, spec, progress_cb=seen.append, cancel_flag=lambda: len(seen) >= 1)
    assert cancelled.status == "cancelled"
    assert all(st.get_person(project, pid).label_params is None for pid in ids)
    resumed = resume_job(project, cancelled.job_id)
    assert resumed.ok, resumed.error
    assert (resumed.outputs["fitted"], resumed.outputs["persons"]) == (2, 2)
    assert all(st.get_person(project, pid).label_source == "pseudo" for pid in ids)


def test_adhmr_fit_project_writes_pseudo_labels(tmp_path, body, capsys):
    path = tmp_path / "study.adhmr"
    with st.Project.create(path) as project:
        ids, _ = _add_people(project, body, n=2)
    assert main(["fit", "--project", str(path), "--dataset", "d", "--steps", "10"]) == 0
    assert "2 of 2 people fitted" in capsys.readouterr().out
    with st.Project.open(path) as project:
        assert all(st.get_person(project, pid).label_source == "pseudo" for pid in ids)
    assert main(["fit", "--project", str(path), "--dataset", "nope"]) == 1
    assert "nope" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["fit", "--out", str(tmp_path / "o")])
    assert usage.value.code == 2


def test_the_fit_job_describes_its_parameters():
    from engine.fitting import FitConfig
    from engine.jobs.kinds.fit import BODY_STEPS, param_specs

    specs = {s.name: s for s in param_specs()}
    assert set(specs) == {"dataset", "replace", "world", "steps", "device"} and specs["dataset"].required
    assert specs["steps"].default == BODY_STEPS == FitConfig().body_steps
