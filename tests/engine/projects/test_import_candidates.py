"""Candidates computed elsewhere: file format, import into a project, refusing bad files."""

import json

import numpy as np
import pytest
import torch

from engine import store as st
from engine.body.inverse_kinematics import pose_to_joints_and_twists, uvd_from_joints
from engine.body.rotations import axis_angle_to_matrix
from engine.cli import main
from engine.data.crops import square_crop
from engine.errors import DataError
from engine.models.param_layout import ParamLayout
from engine.projects.candidates_file import PersonCandidates, write_candidates_file
from engine.projects.importing_candidates import import_candidates
from project_files import make_images

BOXES = [(6.0, 4.0, 38.0, 44.0), (2.0, 2.0, 20.0, 30.0)]


def _persons(images, m=3, seed=0) -> list[PersonCandidates]:
    """Person 0 and 1 in image 0, person 2 in image 1; scores and keypoints for all."""
    rng = np.random.default_rng(seed)
    out = []
    for image, box in [(images[0], BOXES[0]), (images[0], BOXES[1]), (images[1], BOXES[0])]:
        out.append(PersonCandidates(
            image=str(image), box=box,
            pose=rng.normal(0, 0.4, (m, 72)).astype(np.float32),
            betas=rng.normal(0, 1, (m, 10)).astype(np.float32),
            cam=np.stack([rng.uniform(0.6, 1.0, m), rng.normal(0, 0.1, m), rng.normal(0, 0.1, m)], 1).astype(np.float32),
            scores=rng.uniform(0, 1, m).astype(np.float32),
            keypoints=rng.uniform(0, 40, (17, 3)).astype(np.float32),
        ))
    return out


def _stored(project):
    """Every stored run as (image path, box, pose (M, 24, 3, 3), betas, cam, scores)."""
    layout = ParamLayout()
    out = []
    for ds in st.list_datasets(project):
        for image_id, path in st.image_files(project, ds.id):
            for person in st.persons_of_image(project, image_id):
                for run in st.sample_runs_of_person(project, person.id):
                    cands = st.candidates_of_person(project, person.id, run.id)
                    params = torch.from_numpy(np.stack([c.params for c in cands]))
                    rot6d, betas, cam = layout.split(params)
                    pose, _, _ = layout.to_axis_angle(params)
                    out.append((str(path), tuple(person.box), axis_angle_to_matrix(pose.reshape(-1, 24, 3)),
                                betas.numpy(), cam.numpy(), [c.score for c in cands], run.checkpoint_id))
    return out


@pytest.mark.parametrize("suffix", [".npz", ".jsonl"])
def test_round_trip_and_importing_twice_adds_nothing(project, tmp_path, suffix):
    images = make_images(tmp_path / "photos", 2)
    persons = _persons(images)
    path = tmp_path / f"theirs{suffix}"
    write_candidates_file(path, persons)
    report = import_candidates(project, path)
    assert (report.dataset, report.images, report.persons, report.runs, report.candidates) == ("theirs", 2, 3, 3, 9)
    stored = _stored(project)
    assert len(stored) == 3
    for want, (image, box, R, betas, cam, scores, checkpoint) in zip(persons, stored):
        assert image == want.image and box == pytest.approx(want.box) and checkpoint is None
        want_R = axis_angle_to_matrix(torch.from_numpy(want.pose).reshape(-1, 24, 3))
        assert torch.allclose(R, want_R, atol=1e-5)
        np.testing.assert_allclose(betas, want.betas, atol=1e-6)
        np.testing.assert_allclose(cam, want.cam, atol=1e-6)
        np.testing.assert_allclose(scores, want.scores, atol=1e-6)
    again = import_candidates(project, path)
    assert (again.images, again.persons, again.runs, again.already) == (0, 0, 0, 3)
    assert len(_stored(project)) == 3


def test_scorehypo_uvd_form_becomes_the_same_rotations(project, tmp_path, body):
    images = make_images(tmp_path / "photos", 1)
    g = torch.Generator().manual_seed(3)
    pose = torch.randn(4, 72, generator=g, dtype=torch.float64) * 0.4
    betas = torch.randn(4, 10, generator=g, dtype=torch.float64)
    cam = torch.tensor([[0.8, 0.05, 0.1]] * 4, dtype=torch.float64)
    joints, twists = pose_to_joints_and_twists(body, pose, betas)
    uvd = uvd_from_joints(joints, cam)
    row = {"image": images[0].name, "box": list(BOXES[0]), "uvd": uvd.tolist(),
           "twists": torch.stack([twists.cos(), twists.sin()], -1).tolist(), "betas": betas.tolist(), "cam": cam.tolist()}
    path = tmp_path / "scorehypo.jsonl"
    path.write_text(json.dumps(row) + "\n")
    # The image path is relative to the file's folder.
    (tmp_path / images[0].name).write_bytes(images[0].read_bytes())
    import_candidates(project, path, dataset="scorehypo")
    [(_, _, R, _, stored_cam, scores, _)] = _stored(project)
    assert torch.allclose(R.double(), axis_angle_to_matrix(pose.reshape(4, 24, 3)), atol=1e-4)
    np.testing.assert_allclose(stored_cam, cam.numpy(), atol=1e-6)
    assert scores == [None] * 4


def test_a_camera_of_another_crop_projects_to_the_same_pixels(project, tmp_path, body):
    images = make_images(tmp_path / "photos", 2)
    person = _persons(images, m=2)[0]
    crop = np.array([25.0, 20.0, 60.0])
    row = {"image": person.image, "box": list(person.box), "pose": person.pose.tolist(),
           "betas": person.betas.tolist(), "cam": person.cam.tolist(), "crop": crop.tolist()}
    path = tmp_path / "cropped.jsonl"
    path.write_text(json.dumps(row) + "\n")
    import_candidates(project, path)
    [(_, _, _, _, stored_cam, _, _)] = _stored(project)
    pose, betas = torch.from_numpy(person.pose), torch.from_numpy(person.betas)
    theirs = body(pose, betas, torch.from_numpy(person.cam), rotation_format="axis_angle").joints_2d
    ours = body(pose, betas, torch.from_numpy(stored_cam), rotation_format="axis_angle").joints_2d
    center, side = square_crop(np.asarray(person.box))
    pixels_theirs = crop[:2] + theirs.numpy() * crop[2] / 2
    pixels_ours = center + ours.numpy() * side / 2
    np.testing.assert_allclose(pixels_ours, pixels_theirs, atol=1e-3)


def _good_row(image):
    return {"image": str(image), "box": list(BOXES[0]), "pose": [[0.0] * 72] * 2,
            "betas": [[0.0] * 10] * 2, "cam": [[0.9, 0.0, 0.0]] * 2}


BAD_ROWS = {
    "no 'betas'": lambda r: r.pop("betas"),
    "'pose' has shape (2, 71)": lambda r: r.update(pose=[[0.0] * 71] * 2),
    "'cam' holds NaN": lambda r: r.update(cam=[[float("nan"), 0.0, 0.0]] * 2),
    "'cam' scale s must be positive": lambda r: r.update(cam=[[0.0, 0.0, 0.0]] * 2),
    "image 'missing.png' not found": lambda r: r.update(image="missing.png"),
    "'box' [5.0, 5.0, 5.0, 9.0] is empty": lambda r: r.update(box=[5, 5, 5, 9]),
    "exactly one of 'pose', 'uvd', 'joints'": lambda r: r.update(uvd=[[[0.0] * 3] * 29] * 2),
    "'uvd' needs 'twists'": lambda r: (r.pop("pose"), r.update(uvd=[[[0.0] * 3] * 29] * 2)),
    "'scores' has shape (3,)": lambda r: r.update(scores=[0.1, 0.2, 0.3]),
}


@pytest.mark.parametrize("problem", sorted(BAD_ROWS))
def test_a_bad_person_is_named_and_nothing_is_written(project, tmp_path, problem):
    images = make_images(tmp_path / "photos", 1)
    bad = _good_row(images[0])
    BAD_ROWS[problem](bad)
    path = tmp_path / "theirs.jsonl"
    path.write_text(json.dumps(_good_row(images[0])) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataError) as info:
        import_candidates(project, path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: ") and problem in message and "\n" not in message
    assert st.list_datasets(project) == []


def test_unreadable_files_are_refused(project, tmp_path):
    images = make_images(tmp_path / "photos", 1)
    cases = {
        "theirs.jsonl": ("{not json\n", "theirs.jsonl:1: not JSON"),
        "empty.jsonl": ("\n", "holds no persons"),
        "theirs.csv": ("a,b\n", "unknown candidates file type '.csv'"),
        "broken.npz": ("not a zip", "not a readable npz file"),
    }
    for name, (text, problem) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError, match=problem):
            import_candidates(project, tmp_path / name)
    rows = tmp_path / "rows.npz"
    np.savez(rows, image=np.array([str(images[0])] * 2), box=np.array([BOXES[0]] * 3),
             pose=np.zeros((2, 1, 72)), betas=np.zeros((2, 1, 10)), cam=np.ones((2, 1, 3)))
    with pytest.raises(DataError, match=r"'box' has shape \(3, 4\), expected 2 rows"):
        import_candidates(project, rows)
    assert st.list_datasets(project) == []


def test_cli_imports_candidates_and_reports_bad_files_in_one_line(tmp_path, capsys):
    path = tmp_path / "study.adhmr"
    assert main(["init", str(path)]) == 0
    images = make_images(tmp_path / "photos", 2)
    write_candidates_file(tmp_path / "theirs.npz", _persons(images))
    capsys.readouterr()
    assert main(["import", str(path), "--candidates", str(tmp_path / "theirs.npz"), "--name", "mine"]) == 0
    assert "dataset 'mine': 9 candidates in 3 sample runs imported (2 new images, 3 new persons" in capsys.readouterr().out
    (tmp_path / "bad.jsonl").write_text("[]\n")
    assert main(["import", str(path), "--candidates", str(tmp_path / "bad.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.jsonl:1: expected a JSON object per line" in err
    with pytest.raises(SystemExit) as usage:
        main(["import", str(path), str(images[0]), "--candidates", str(tmp_path / "bad.jsonl")])
    assert usage.value.code == 2
    with st.Project.open(path) as p:
        assert [d.name for d in st.list_datasets(p)] == ["mine"]
