import numpy as np
import pytest
from synthetic_rig import body_points, rig

from engine.errors import ShapeError
from engine.multiview.evaluate import (
    reference_in_camera,
    summarise_hypotheses,
    summarise_single,
    view_errors,
)


def _camera_view(points, cam):
    """What a perfect single-view method predicts: the body in camera axes, anywhere."""
    return points @ cam.R.T + [0.3, -0.2, 5.0]


def test_a_perfect_prediction_in_every_camera_has_zero_error():
    points = body_points(np.random.default_rng(0))[0]
    for cam in rig():
        mpjpe, pa = view_errors(_camera_view(points, cam)[None], reference_in_camera(points, cam.R))
        assert mpjpe[0] == pytest.approx(0.0, abs=1e-9) and pa[0] == pytest.approx(0.0, abs=1e-6)


def test_the_world_body_unrotated_is_wrong_for_mpjpe_but_not_for_pa():
    points = body_points(np.random.default_rng(1))[0]
    cam = rig()[1]

    mpjpe, pa = view_errors(points[None], reference_in_camera(points, cam.R))

    assert mpjpe[0] > 300.0  # a standing body seen lying down: hundreds of mm
    assert pa[0] == pytest.approx(0.0, abs=1e-6)


def test_known_offset_of_one_joint_gives_its_share_in_mm():
    points = body_points(np.random.default_rng(2))[0]
    cam = rig()[0]
    pred = _camera_view(points, cam)
    pred[2] += [0.0, 0.12, 0.0]  # left elbow 12 cm off, not a hip

    mpjpe, _ = view_errors(pred[None], reference_in_camera(points, cam.R))

    assert mpjpe[0] == pytest.approx(120.0 / 12)


def test_multi_hypothesis_rows_are_zero_noise_select_and_min():
    mpjpe = np.array([[50.0, 40.0, 30.0], [60.0, 20.0, 70.0]])
    pa = mpjpe / 2
    scores = np.array([[0.1, 0.9, 0.2], [0.3, 0.2, 0.8]])

    got = summarise_hypotheses(mpjpe, pa, scores)

    assert list(got) == ["zero_noise", "select", "min"]
    assert got["zero_noise"].mpjpe == 55.0 and got["select"].mpjpe == 55.0  # (40 + 70) / 2
    assert got["min"].mpjpe == 25.0 and got["min"].pa_mpjpe == 12.5 and got["min"].views == 2
    assert "select" not in summarise_hypotheses(mpjpe, pa, None)


def test_single_summary_and_its_json_form():
    got = summarise_single([(100.04, 50.0), (120.0, 70.0)])
    assert got.to_dict() == {"mpjpe": 110.0, "pa_mpjpe": 60.0, "views": 2}
    with pytest.raises(ShapeError, match="no view"):
        summarise_single([])


def test_prediction_of_the_wrong_shape_is_a_shape_error():
    with pytest.raises(ShapeError, match=r"\(K, 12, 3\)"):
        view_errors(np.zeros((1, 17, 3)), np.zeros((12, 3)))
