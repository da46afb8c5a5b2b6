import numpy as np
import pytest
from synthetic_rig import body_points, rig, write_qca

from engine.errors import DataError, ShapeError
from engine.multiview.calibration import check_frame_size, read_qca


def test_qca_round_trip_gives_the_cameras_back(tmp_path):
    cams = rig()
    path = tmp_path / "Calib.qca.txt"
    write_qca(path, cams, offsets=[(0, 0), (12, 0), (0, 40), (8, 16)])

    read = read_qca(path)

    assert [c.name for c in read] == ["cam01", "cam02", "cam03", "cam04"]
    for got, want in zip(read, cams):
        assert got.size == want.size
        np.testing.assert_allclose(got.K, want.K, atol=1e-9)
        np.testing.assert_allclose(got.dist, want.dist, atol=1e-12)
        np.testing.assert_allclose(got.R, want.R, atol=1e-12)
        np.testing.assert_allclose(got.t, want.t, atol=1e-12)


def test_read_cameras_project_a_known_point_where_the_camera_sees_it(tmp_path):
    path = tmp_path / "Calib.qca.txt"
    write_qca(path, rig(distortion=0.0))
    cam = read_qca(path)[0]

    # The rig's cameras look at (0, 0, 1) with the world's up at the top of the image.
    centre_px = cam.project(np.array([[0.0, 0.0, 1.0]]))[0]
    above_px = cam.project(np.array([[0.0, 0.0, 1.5]]))[0]

    np.testing.assert_allclose(centre_px, cam.K[:2, 2], atol=1e-6)
    assert above_px[1] < centre_px[1] - 100
    assert cam.to_camera(np.array([0.0, 0.0, 1.0]))[2] > 2.5  # in front, metres away


def test_undistort_inverts_the_lens(tmp_path):
    cam = rig(distortion=0.08)[2]
    points = body_points(np.random.default_rng(1))[0]
    ideal = (points @ cam.R.T + cam.t) @ cam.K.T
    ideal = ideal[:, :2] / ideal[:, 2:]

    distorted = cam.project(points)

    assert np.abs(distorted - ideal).max() > 1.0  # the lens moves the points
    np.testing.assert_allclose(cam.undistort(distorted), ideal, atol=1e-3)


def test_ray_rotation_turns_a_crop_view_into_the_camera():
    cam = rig(distortion=0.08)[1]
    points = body_points(np.random.default_rng(2))[0]
    for point, pixel in zip(points, cam.project(points)):
        R = cam.ray_rotation(pixel)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
        assert np.linalg.det(R) > 0
        # The crop's forward axis is the ray through the (distorted) pixel ...
        ray = cam.to_camera(point)
        np.testing.assert_allclose(R[:, 2], ray / np.linalg.norm(ray), atol=1e-4)
        # ... turned the least (no roll about the ray): the crop's right axis stays level.
        assert abs(R[1, 0]) < 0.01
    # Off the image centre of this wide-angle view, the turn is several degrees.
    corner = cam.ray_rotation(np.array([100.0, 1800.0]))
    assert np.degrees(np.arccos(corner[2, 2])) > 15
    no_lens = rig(distortion=0.0)[0]
    np.testing.assert_allclose(no_lens.ray_rotation(no_lens.K[:2, 2]), np.eye(3), atol=1e-9)


def test_cameras_are_ordered_naturally_and_inactive_ones_skipped(tmp_path):
    cams = rig()
    path = tmp_path / "c.qca.txt"
    write_qca(path, [cams[3], cams[0], cams[2], cams[1]])
    text = path.read_text().replace('active="1" serial="cam03"', 'active="0" serial="cam03"')
    path.write_text(text)

    assert [c.name for c in read_qca(path)] == ["cam01", "cam02", "cam04"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('focalLengthU="', 'focalLengthU="x'), "focalLengthU"),
        (lambda t: t.replace("<fov_video", "<fov_other"), "<fov_video>"),
        (lambda t: t.replace('r11="', 'r11="3', 1).replace('r11="3-', 'r11="3', 1), "not a rotation"),
        (lambda t: t[:40], "XML error"),
        (lambda t: t.replace("<camera ", "<cam ").replace("</camera>", "</cam>"), "no active"),
    ],
)
def test_malformed_calibration_is_a_one_line_error_naming_the_file(tmp_path, edit, message):
    path = tmp_path / "bad.qca.txt"
    write_qca(path, rig())
    path.write_text(edit(path.read_text()))

    with pytest.raises(DataError, match=message) as info:
        read_qca(path)

    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_calibration_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_qca(tmp_path / "none.qca.txt")


def test_frame_size_allows_encoder_rounding_only():
    cam = rig()[0]
    check_frame_size(cam, 1080, 1920)  # 8 px of padding cropped by the encoder
    with pytest.raises(ShapeError, match="1920x1080"):
        check_frame_size(cam, 1920, 1080)
