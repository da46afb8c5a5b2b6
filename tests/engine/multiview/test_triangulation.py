import numpy as np
import pytest
from synthetic_rig import body_points, rig

from engine.errors import ShapeError
from engine.multiview.joints import EVAL12_FLIP
from engine.multiview.triangulation import (
    reprojection_errors,
    side_swaps,
    triangulate_dlt,
    triangulate_frames,
)


def _observe(cams, points, confidence=0.9):
    """(F, J, 3) world points -> (F, V, J, 3) distorted pixels + confidence."""
    kp = np.stack([np.stack([c.project(p) for c in cams]) for p in points])
    conf = np.full(kp.shape[:-1] + (1,), confidence)
    return np.concatenate([kp, conf], axis=-1)


def test_dlt_recovers_exact_points_from_undistorted_views():
    cams = rig()
    points = body_points(np.random.default_rng(0))[0]
    kp = _observe(cams, points[None])[0]
    undistorted = np.stack([c.undistort(kp[v, :, :2]) for v, c in enumerate(cams)])

    got = triangulate_dlt(undistorted, kp[..., 2], np.stack([c.projection_matrix() for c in cams]))

    np.testing.assert_allclose(got, points, atol=1e-5)


def test_frames_are_exact_through_the_lens_and_reproject_to_zero():
    cams = rig(distortion=0.08)
    points = body_points(np.random.default_rng(2), frames=3)

    ref = triangulate_frames(cams, _observe(cams, points))

    assert ref.kept.all() and ref.dropped_error == 0 and ref.dropped_views == 0
    np.testing.assert_allclose(ref.points, points, atol=1e-4)
    assert np.all(ref.error_px < 0.01)


def test_confidence_weights_favour_the_sure_views():
    cams = rig(distortion=0.0)
    points = body_points(np.random.default_rng(3))
    kp = _observe(cams, points)
    kp[0, 0, :, :2] += 40.0  # one view is off by 40 px on every joint
    even = triangulate_frames(cams, kp).points[0]
    kp[0, 0, :, 2] = 0.05  # ... and says it is unsure
    weighted = triangulate_frames(cams, kp).points[0]

    err = lambda p: np.linalg.norm(p - points[0], axis=1).mean()  # noqa: E731
    assert err(weighted) < err(even) / 3


def test_frames_with_large_reprojection_error_are_dropped_and_counted():
    cams = rig()
    points = body_points(np.random.default_rng(4), frames=5)
    kp = _observe(cams, points)
    # Frame 1: left and right swapped in one view, as detectors do on side views.
    kp[1, 2] = kp[1, 2, [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10]]
    # Frame 3: one view sees a different place entirely.
    kp[3, 1, :, :2] += 200.0
    # Frame 4: only one view saw the ankles.
    kp[4, 1:, 10:, 2] = 0.0

    ref = triangulate_frames(cams, kp, max_error_px=30.0)

    assert ref.kept.tolist() == [True, False, True, False, False]
    assert (ref.dropped_error, ref.dropped_views, ref.num_kept) == (2, 1, 2)
    assert ref.error_px[1] > 30 and ref.error_px[3] > 30 and np.isnan(ref.error_px[4])
    assert np.isnan(ref.points[1]).all() and np.isfinite(ref.points[[0, 2]]).all()
    assert ref.kept_error_px < 0.01
    # The swapped frame is traced to its camera; the shifted one is not a swap.
    assert side_swaps(cams, kp, ref, EVAL12_FLIP) == {"cam03": 1}


def test_reprojection_errors_ignore_unseen_joints():
    cams = rig()
    points = body_points(np.random.default_rng(5))[0]
    kp = _observe(cams, points[None])[0]
    kp[1, 3, :2] += [3.0, 4.0]
    kp[2, 5, 2] = 0.0

    errors = reprojection_errors(points, cams, kp)

    assert errors[1, 3] == pytest.approx(5.0, abs=1e-6)
    assert np.isnan(errors[2, 5])
    assert np.nanmax(np.delete(errors.ravel(), 1 * 12 + 3)) < 1e-6


def test_wrong_shapes_are_shape_errors():
    cams = rig()
    with pytest.raises(ShapeError, match=r"\(F, 4, J, 3\)"):
        triangulate_frames(cams, np.zeros((2, 3, 12, 3)))
    with pytest.raises(ShapeError, match="triangulate"):
        triangulate_dlt(np.zeros((4, 12, 2)), np.ones((4, 11)), np.zeros((4, 3, 4)))
