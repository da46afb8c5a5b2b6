"""Landmark tokens: what a detector-conditioned model reads, and how augmentation moves it."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.augment import rotate_joints3d
from engine.data.landmark_tokens import BLAZEPOSE_FLIP, NUM_LANDMARKS, landmark_tokens, tokens_of, turn_tokens
from engine.detect.keypoints import BLAZEPOSE_NAMES
from engine.errors import ShapeError


def _world(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.4, (NUM_LANDMARKS, 3)).astype(np.float32)


def test_flip_pairs_left_with_right_and_is_its_own_inverse():
    names = BLAZEPOSE_NAMES
    assert names[BLAZEPOSE_FLIP[names.index("left_knee")]] == "right_knee"
    assert names[BLAZEPOSE_FLIP[names.index("mouth_left")]] == "mouth_right"
    assert names[BLAZEPOSE_FLIP[names.index("nose")]] == "nose"
    assert [BLAZEPOSE_FLIP[i] for i in BLAZEPOSE_FLIP] == list(range(NUM_LANDMARKS))


def test_a_found_person_is_marked_found_and_a_missing_one_is_all_zero():
    w = _world()
    t = landmark_tokens(w, np.full(33, 0.9), np.full(33, 0.8))
    assert t.shape == (33, 6) and t.dtype == np.float32
    np.testing.assert_allclose(t[:, :3], w)
    assert (t[:, 3] == np.float32(0.9)).all() and (t[:, 5] == 1).all()
    assert not landmark_tokens(None, None, None).any()


def test_turning_moves_the_world_landmarks_as_the_joint_labels_and_flipping_twice_restores():
    t = landmark_tokens(_world(1), None, None)
    turned = turn_tokens(t, 30.0, False)
    joints = np.column_stack([t[:, :3], np.ones(33)])
    np.testing.assert_allclose(turned[:, :3], rotate_joints3d(joints, 30.0)[:, :3], atol=1e-6)
    np.testing.assert_allclose(turn_tokens(turn_tokens(t, 0.0, True), 0.0, True), t, atol=1e-7)
    flipped = turn_tokens(t, 0.0, True)
    left, right = BLAZEPOSE_NAMES.index("left_wrist"), BLAZEPOSE_NAMES.index("right_wrist")
    np.testing.assert_allclose(flipped[left, :3], t[right, :3] * [-1, 1, 1], atol=1e-7)


def test_tokens_of_reads_any_record_with_detector_outputs():
    class Person:
        world_landmarks = _world(2)
        landmark_visibility = np.full(33, 0.5, np.float32)
        landmark_presence = None

    assert tokens_of(object()) is None
    t = tokens_of(Person())
    assert t is not None and (t[:, 3] == 0.5).all() and (t[:, 4] == 1).all()


def test_malformed_world_landmarks_are_refused():
    with pytest.raises(ShapeError):
        landmark_tokens(np.zeros((17, 3)), None, None)
    bad = _world()
    bad[3, 1] = np.nan
    with pytest.raises(ShapeError):
        landmark_tokens(bad, None, None)
