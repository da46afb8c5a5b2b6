"""PersonSample: validation that names the field, float32 read-only arrays, equality."""

import numpy as np
import pytest

from engine.data.records import PersonSample, resolve_image_path
from engine.errors import DataError, ShapeError


def _kp():
    kp = np.zeros((17, 3))
    kp[:, 0] = np.arange(17) * 3.0
    kp[:, 1] = 40.0
    kp[:, 2] = 1.0
    return kp


def _sample(**changes):
    fields = dict(image_path="img.jpg", box=[10, 20, 110, 220], keypoints=_kp())
    fields.update(changes)
    return PersonSample(**fields)


def test_fields_become_float32_read_only_copies():
    box = np.array([10, 20, 110, 220], dtype=np.float64)
    s = _sample(box=box, pose=np.zeros(72, np.float64), camera=[1.0, 0.1, -0.2])
    assert s.box.dtype == np.float32 and s.pose.dtype == np.float32 and s.camera.dtype == np.float32
    box[0] = 99
    assert s.box[0] == 10
    with pytest.raises(ValueError):
        s.box[0] = 5
    with pytest.raises(TypeError):
        s.extra["x"] = np.zeros(1)


@pytest.mark.parametrize(
    "changes, error, field",
    [
        ({"box": [0, 0, 1]}, ShapeError, "box"),
        ({"box": [5, 5, 5, 9]}, DataError, "box"),
        ({"keypoints": np.zeros((24, 3))}, ShapeError, "keypoints"),
        ({"keypoints": np.full((17, 3), 2.0)}, DataError, "keypoints"),
        ({"pose": np.full(72, np.nan)}, ShapeError, "pose"),
        ({"betas": np.zeros(16)}, ShapeError, "betas"),
        ({"joints3d": np.full((24, 4), np.inf)}, ShapeError, "joints3d"),
        ({"camera": [0.0, 0, 0]}, DataError, "camera"),
        ({"camera": ["a", "b", "c"]}, ShapeError, "camera"),
        ({"pose": np.full(72, 1e300)}, ShapeError, "pose"),
        ({"label_kind": "guess"}, DataError, "label_kind"),
        ({"image_path": ""}, DataError, "image_path"),
        ({"extra": {"o": np.array([object()])}}, ShapeError, "extra"),
    ],
)
def test_bad_values_raise_a_project_error_naming_the_field(changes, error, field):
    with pytest.raises(error, match=field):
        _sample(**changes)


def test_equals_compares_every_field_and_extra():
    a = _sample(pose=np.ones(72), extra={"part": np.ones((24, 3))})
    assert a.equals(_sample(pose=np.ones(72), extra={"part": np.ones((24, 3))}))
    assert not a.equals(_sample(pose=np.ones(72), extra={"part": np.zeros((24, 3))}))
    assert not a.equals(_sample(pose=np.ones(72)))
    assert not a.equals(a.replace(pose=None, extra=a.extra))
    assert a.replace(label_kind="gt").label_kind == "gt"


def test_crop_square_is_centred_on_the_box_with_its_longer_side():
    center, side = _sample(box=[10, 20, 110, 220]).crop_square
    assert center.tolist() == [60.0, 120.0] and side == 200.0


def test_relative_image_paths_resolve_against_the_given_folder(tmp_path):
    assert resolve_image_path("a/../b/img.jpg", tmp_path) == str(tmp_path / "b" / "img.jpg")
    assert resolve_image_path(str(tmp_path / "x.png"), "/elsewhere") == str(tmp_path / "x.png")
