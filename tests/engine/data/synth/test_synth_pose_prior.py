"""The pose prior: a library of key poses, blended and kept within joint limits."""

import numpy as np

from engine.body.model import SMPL_JOINT_NAMES
from engine.data.synth.domains import STUDIO, WILD
from engine.data.synth.pose_prior import (
    KEY_POSES, LIMITS_HI, LIMITS_LO, euler_to_axis_angle, mirror_euler, sample_euler, sample_pose,
)

J = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}


def test_library_has_twenty_distinct_key_poses_within_limits():
    assert len(KEY_POSES) >= 20
    stacked = np.stack(list(KEY_POSES.values()))
    assert len({p.tobytes() for p in stacked}) == len(KEY_POSES)
    assert np.all(stacked[:, 1:] >= LIMITS_LO[1:]) and np.all(stacked[:, 1:] <= LIMITS_HI[1:])


def test_samples_respect_hinge_directions_even_with_wild_noise():
    rng = np.random.default_rng(0)
    poses = np.stack([sample_euler(rng, WILD.pose) for _ in range(300)])
    assert np.all(poses[:, [J["left_knee"], J["right_knee"]], 0] >= 0)
    assert np.all(poses[:, J["left_elbow"], 1] <= 0) and np.all(poses[:, J["right_elbow"], 1] >= 0)
    assert np.all(poses[:, 1:] >= LIMITS_LO[1:]) and np.all(poses[:, 1:] <= LIMITS_HI[1:])
    # Not a handful of fixed poses: knees take many angles.
    assert np.std(poses[:, J["left_knee"], 0]) > 20


def test_wild_spread_strays_further_from_the_library_than_studio():
    def distance(spread):
        rng = np.random.default_rng(1)
        lib = np.stack(list(KEY_POSES.values()) + [mirror_euler(p) for p in KEY_POSES.values()])
        d = []
        for _ in range(200):
            p = sample_euler(rng, spread)
            d.append(np.abs(lib[:, 1:] - p[1:]).mean(axis=(1, 2)).min())
        return np.mean(d)

    assert distance(WILD.pose) > 1.3 * distance(STUDIO.pose)


def test_same_generator_state_gives_the_same_pose():
    a = sample_pose(np.random.default_rng(5))
    b = sample_pose(np.random.default_rng(5))
    assert a.shape == (24, 3) and np.array_equal(a, b)


def test_mirror_is_an_involution_and_swaps_sides():
    p = KEY_POSES["wave"]
    m = mirror_euler(p)
    assert np.array_equal(mirror_euler(m), p)
    assert np.allclose(m[J["left_shoulder"]], p[J["right_shoulder"]] * [1, -1, -1])


def test_single_axis_euler_equals_axis_angle():
    e = np.zeros((24, 3))
    e[J["left_knee"], 0] = 90
    aa = euler_to_axis_angle(e)
    assert np.allclose(aa[J["left_knee"]], [np.pi / 2, 0, 0])
