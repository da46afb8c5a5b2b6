import numpy as np
import pytest

from engine.data.joint_sets import COCO17_NAMES, SMPL24_NAMES
from engine.detect.keypoints import BLAZEPOSE_NAMES
from engine.errors import ShapeError
from engine.multiview.joints import EVAL12_FLIP, EVAL12_NAMES, hip_aligned, to_eval12


def test_the_twelve_joints_are_the_limbs_left_then_right():
    assert EVAL12_NAMES == (
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
        "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
        "right_ankle",
    )  # fmt: skip


@pytest.mark.parametrize(
    "names, rename",
    [
        (COCO17_NAMES, lambda n: n),
        (BLAZEPOSE_NAMES, lambda n: n),
        (SMPL24_NAMES, lambda n: n.replace("left_", "l_").replace("right_", "r_")),
    ],
)
def test_each_convention_maps_to_the_same_named_joints(names, rename):
    # A point per joint that encodes its own name: the map must pick by name, not place.
    points = np.array([[hash(n) % 9973, i, 0.0] for i, n in enumerate(names)])

    got = to_eval12(points[None])[0]

    want = [names.index(rename(n)) for n in EVAL12_NAMES]
    np.testing.assert_array_equal(got[:, 1], want)


def test_unknown_joint_count_is_a_shape_error():
    with pytest.raises(ShapeError, match="17 | 24 | 33"):
        to_eval12(np.zeros((2, 25, 3)))


def test_hip_alignment_puts_the_hip_midpoint_at_the_origin():
    points = np.random.default_rng(0).normal(size=(3, 12, 3)) + [5.0, -2.0, 1.0]

    aligned = hip_aligned(points)

    np.testing.assert_allclose(aligned[:, 6:8].mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(aligned[:, 1] - aligned[:, 0], points[:, 1] - points[:, 0])


def test_the_mirror_swaps_left_and_right():
    mirrored = [EVAL12_NAMES[i] for i in EVAL12_FLIP]
    swap = {"left": "right", "right": "left"}
    assert mirrored == [swap[n.split("_")[0]] + "_" + n.split("_")[1] for n in EVAL12_NAMES]
