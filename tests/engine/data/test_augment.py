"""Augmentation: seeded draws, and 3D labels that move exactly as the image does.

The geometry checks use a small forward-kinematics skeleton on SMPL's joint tree with a
left/right-symmetric rest pose: pure geometry, no body model.
"""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from engine.body.projection import crop_to_image, project_weak_perspective
from engine.data.augment import (
    AugmentConfig, AugmentParams, apply_color, apply_occluder, augment_rng, camera_for_crop,
    flip_camera, flip_joints3d, flip_pose, rotate_camera, rotate_joints3d, rotate_pose, rotation_3d,
    sample_params,
)
from engine.data.crops import rotation_2d
from engine.data.joint_sets import SMPL24_FLIP, SMPL24_NAMES, SMPL24_PARENTS
from engine.errors import DataError

MIRROR = np.diag([-1.0, 1.0, 1.0])


def symmetric_rest(rng, root=(0.0, -0.22, 0.03)):
    """(24, 3) rest joints, metres, mirror-symmetric in x, root at ``root``."""
    offsets = np.zeros((24, 3))
    for i, name in enumerate(SMPL24_NAMES[1:], start=1):
        if name.startswith("l_"):
            offsets[i] = rng.uniform(-0.2, 0.2, 3)
            offsets[i, 0] = abs(offsets[i, 0]) + 0.05
        elif not name.startswith("r_"):
            offsets[i] = [0.0, *rng.uniform(-0.2, 0.2, 2)]
    for i, j in enumerate(SMPL24_FLIP):
        if SMPL24_NAMES[i].startswith("r_"):
            offsets[i] = MIRROR @ offsets[j]
    rest = np.zeros((24, 3))
    rest[0] = root
    for i in range(1, 24):
        rest[i] = rest[SMPL24_PARENTS[i]] + offsets[i]
    return rest


def forward_kinematics(pose, rest):
    """(24, 3) posed joints, root rotating about its rest position, no translation."""
    local = Rotation.from_rotvec(np.asarray(pose, np.float64).reshape(24, 3)).as_matrix()
    world = [local[0]]
    joints = [rest[0]]
    for i in range(1, 24):
        p = SMPL24_PARENTS[i]
        world.append(world[p] @ local[i])
        joints.append(joints[p] + world[p] @ (rest[i] - rest[p]))
    return np.array(joints)


@pytest.fixture
def body():
    rng = np.random.default_rng(7)
    rest = symmetric_rest(rng)
    pose = rng.normal(scale=0.4, size=72)
    pose[:3] = [np.pi * 0.9, 0.2, -0.1]
    return rest, pose


def test_draws_depend_only_on_seed_index_and_epoch():
    cfg = AugmentConfig(rotation_prob=1.0, occlusion_prob=1.0)
    a = sample_params(cfg, augment_rng(3, 10, 2))
    assert a == sample_params(cfg, augment_rng(3, 10, 2))
    assert a != sample_params(cfg, augment_rng(3, 10, 3))
    assert a != sample_params(cfg, augment_rng(3, 11, 2))
    assert a != sample_params(cfg, augment_rng(4, 10, 2))


def test_draws_stay_within_the_configured_ranges():
    cfg = AugmentConfig(scale_jitter=0.2, translation_jitter=0.1, rotation_std=10, rotation_prob=0.5,
                        flip_prob=0.5, color_jitter=0.3, occlusion_prob=0.5, occlusion_size=(0.2, 0.3))
    draws = [sample_params(cfg, augment_rng(0, i)) for i in range(400)]
    assert all(0.8 <= d.scale <= 1.2 and max(map(abs, d.shift)) <= 0.1 for d in draws)
    assert all(abs(d.rotation) <= 20 and all(0.7 <= c <= 1.3 for c in d.color) for d in draws)
    assert 0.4 < np.mean([d.flip for d in draws]) < 0.6
    assert 0.4 < np.mean([d.rotation != 0 for d in draws]) < 0.6
    boxes = [d.occluder for d in draws if d.occluder]
    assert all(0.2 - 1e-9 <= x1 - x0 <= 0.3 + 1e-9 and 0 <= x0 and x1 <= 1 for x0, _, x1, _ in boxes)
    off = AugmentConfig(scale_jitter=0, translation_jitter=0, rotation_std=0, rotation_prob=0, flip_prob=0,
                        color_jitter=0, occlusion_prob=0)
    still = [sample_params(off, augment_rng(0, i)) for i in range(20)]
    assert all(d == AugmentParams(occluder_color=d.occluder_color) for d in still)


def test_bad_config_values_are_refused():
    with pytest.raises(DataError, match="flip_prob"):
        AugmentConfig(flip_prob=1.5)
    with pytest.raises(DataError, match="occlusion_size"):
        AugmentConfig(occlusion_size=(0.5, 0.2))


def test_flipping_twice_and_rotating_back_are_identities(body):
    _, pose = body
    np.testing.assert_allclose(flip_pose(flip_pose(pose)), pose, atol=1e-6)
    np.testing.assert_allclose(
        Rotation.from_rotvec(rotate_pose(rotate_pose(pose, 35), -35)[:3]).as_matrix(),
        Rotation.from_rotvec(pose[:3]).as_matrix(), atol=1e-6)
    joints = np.random.default_rng(0).normal(size=(24, 4))
    np.testing.assert_allclose(flip_joints3d(flip_joints3d(joints)), joints, atol=1e-6)


def test_flipped_pose_poses_the_mirror_image_of_the_body(body):
    rest, pose = body
    mirrored = forward_kinematics(pose, rest)[list(SMPL24_FLIP)] @ MIRROR.T
    np.testing.assert_allclose(forward_kinematics(flip_pose(pose), rest), mirrored, atol=1e-5)


def test_rotated_pose_turns_the_body_about_its_root_like_the_image(body):
    rest, pose = body
    joints = forward_kinematics(pose, rest)
    turned = forward_kinematics(rotate_pose(pose, 40.0), rest)
    np.testing.assert_allclose(turned - rest[0], (joints - rest[0]) @ rotation_3d(40.0).T, atol=1e-5)
    np.testing.assert_allclose(rotation_3d(40.0)[:2, :2], rotation_2d(40.0))
    np.testing.assert_allclose(rotate_joints3d(np.c_[joints, np.ones(24)], 40.0)[:, :3],
                               joints @ rotation_3d(40.0).T, atol=1e-5)


def _project(points, cam):
    cam = torch.tensor(cam, dtype=torch.float64)[None]
    return project_weak_perspective(torch.tensor(points)[None], cam)[0].numpy()


def test_turned_and_mirrored_cameras_project_the_moved_body_onto_the_moved_keypoints(body):
    rest, pose = body
    cam = np.array([0.9, 0.05, 0.3])
    xy = _project(forward_kinematics(pose, rest), cam)
    turned = rotate_camera(cam, 25.0, rest[0])
    np.testing.assert_allclose(_project(forward_kinematics(rotate_pose(pose, 25.0), rest), turned),
                               xy @ rotation_2d(25.0).T, atol=1e-5)
    mirrored = xy[list(SMPL24_FLIP)] * [-1, 1]
    np.testing.assert_allclose(_project(forward_kinematics(flip_pose(pose), rest), flip_camera(cam)),
                               mirrored, atol=1e-5)


def test_camera_for_another_crop_lands_on_the_same_image_pixels(body):
    rest, pose = body
    joints = forward_kinematics(pose, rest)
    cam = np.array([1.1, -0.1, 0.2])
    src_c, src_s, dst_c, dst_s = np.array([120.0, 80.0]), 150.0, np.array([100.0, 95.0]), 210.0
    moved = camera_for_crop(cam, src_c, src_s, dst_c, dst_s)

    def pixels(c, center, size):
        return crop_to_image(torch.tensor(_project(joints, c))[None], torch.tensor(center)[None],
                             torch.tensor([size], dtype=torch.float64))[0].numpy()

    np.testing.assert_allclose(pixels(moved, dst_c, dst_s), pixels(cam, src_c, src_s), atol=1e-3)


def test_colour_gains_and_occluders_paint_the_crop():
    crop = np.full((10, 10, 3), 100, np.uint8)
    p = AugmentParams(color=(0.5, 1.0, 3.0), occluder=(0.2, 0.0, 0.5, 0.3), occluder_color=(1, 2, 3))
    out = apply_occluder(apply_color(crop, p), p)
    assert out[9, 9].tolist() == [50, 100, 255]
    assert out[0, 2].tolist() == [1, 2, 3] and out[2, 4].tolist() == [1, 2, 3]
    assert out[3, 2].tolist() == [50, 100, 255]
    assert crop[0, 2].tolist() == [100, 100, 100]
