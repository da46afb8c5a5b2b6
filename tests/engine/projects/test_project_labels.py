"""Stored labels: the camera is re-expressed for the model's crop, or fitted to keypoints."""

import numpy as np
import torch
from project_files import labelled_records, make_images

from engine.projects.labels import LAYOUT, fit_camera, label_crop, label_params, sample_of
from engine.store import PersonRecord


def _projected_px(params: np.ndarray, box: np.ndarray, body) -> np.ndarray:
    """(17, 2) image pixels of a stored label's keypoints, decoded as candidates are."""
    rot, betas, cam = LAYOUT.split(torch.from_numpy(params)[None])
    with torch.no_grad():
        kp = body(rot, betas, cam).keypoints_2d[0].numpy()
    center, side = label_crop(box)
    return center + kp * side / 2


def test_label_camera_places_the_body_on_its_keypoints(tmp_path, body):
    records = labelled_records(make_images(tmp_path, 4), body)
    for r, params in zip(records, label_params(records, body), strict=True):
        assert params.shape == (157,) and params.dtype == np.float32
        np.testing.assert_allclose(_projected_px(params, r.box, body), r.keypoints[:, :2], atol=1e-3)


def test_a_missing_camera_is_fitted_to_the_keypoints(tmp_path, body):
    with_cam = labelled_records(make_images(tmp_path, 3), body, seed=1)
    without = [r.replace(camera=None) for r in with_cam]
    fitted = label_params(without, body)
    exact = label_params(with_cam, body)
    for r, f, e in zip(with_cam, fitted, exact, strict=True):
        np.testing.assert_allclose(f, e, atol=1e-4)
        np.testing.assert_allclose(_projected_px(f, r.box, body), r.keypoints[:, :2], atol=1e-2)


def test_fit_camera_needs_enough_confident_points():
    kp3d = np.random.default_rng(0).normal(size=(17, 3))
    kp2d = np.zeros((17, 3))
    kp2d[:2] = [0.1, 0.2, 1.0]
    assert fit_camera(kp3d, kp2d) is None
    kp2d[:, :2] = -0.5 * kp3d[:, :2]  # a mirror image: no camera with s > 0 makes it
    kp2d[:, 2] = 1
    assert fit_camera(kp3d, kp2d) is None


def test_records_without_pose_have_no_label(tmp_path, body):
    r = labelled_records(make_images(tmp_path, 1), body)[0]
    assert label_params([r.replace(pose=None, betas=None, camera=None)], body) == [None]


def test_sample_of_rebuilds_the_record_from_a_person_row(tmp_path, body):
    r = labelled_records(make_images(tmp_path, 1), body)[0]
    params = label_params([r], body)[0]
    person = PersonRecord(7, 1, tuple(r.box.tolist()), r.keypoints.copy(), params, "gt", True, r.joints3d[:, :3].copy())
    back = sample_of(person, r.image_path)
    np.testing.assert_allclose(back.camera, r.camera, atol=1e-5)
    np.testing.assert_allclose(back.betas, r.betas, atol=1e-6)
    np.testing.assert_allclose(back.joints3d, r.joints3d, atol=1e-6)
    assert back.label_kind == "gt" and back.source == "project:person#7"
    with torch.no_grad():
        a = body(torch.tensor(back.pose)[None], rotation_format="axis_angle").joints
        b = body(torch.from_numpy(np.array(r.pose))[None], rotation_format="axis_angle").joints
    np.testing.assert_allclose(a, b, atol=1e-5)
