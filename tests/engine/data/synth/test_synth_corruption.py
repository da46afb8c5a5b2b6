"""Pseudo-label corruption: how many rows, which rows, and what each error does."""

import numpy as np
import pytest
import torch

from engine.body.model import BodyModel
from engine.data.synth.corruption import CORRUPTION_KINDS, corrupt_labels
from engine.data.synth.domains import STUDIO
from engine.data.synth.scene import sample_scene
from engine.errors import DataError


@pytest.fixture(scope="module")
def labels():
    rng = np.random.default_rng(0)
    scenes = [sample_scene(rng, STUDIO, 256) for _ in range(40)]
    return np.stack([s.pose for s in scenes]), np.stack([s.betas for s in scenes])



def _joints(body, pose, betas):
    j = body(torch.from_numpy(pose), torch.from_numpy(betas), rotation_format="axis_angle").joints.numpy()
    return j - j[:, :1]


@pytest.mark.parametrize("fraction", [0.0, 0.3, 1.0])
def test_marks_the_fraction_and_changes_only_those_rows(labels, fraction):
    pose, betas = labels
    r = corrupt_labels(pose, betas, fraction, np.random.default_rng(1))
    assert r.mask.sum() == round(fraction * len(pose))
    changed = np.any(r.pose != pose, axis=1) | np.any(r.betas != betas, axis=1)
    assert np.array_equal(changed, r.mask)
    assert np.all(r.kind[~r.mask] == "") and set(r.kind[r.mask]) <= set(CORRUPTION_KINDS)
    again = corrupt_labels(pose, betas, fraction, np.random.default_rng(1))
    assert np.array_equal(again.pose, r.pose) and np.array_equal(again.kind, r.kind)


def test_every_kind_is_a_real_3d_error(labels, body):
    pose, betas = labels
    clean = _joints(body, pose, betas)
    for kind in CORRUPTION_KINDS:
        r = corrupt_labels(pose, betas, 1.0, np.random.default_rng(2), kinds=(kind,))
        err = np.linalg.norm(_joints(body, r.pose, r.betas) - clean, axis=2).mean(axis=1)
        assert np.all(err > 0.005), kind
        assert np.mean(err) > 0.04, kind


def test_depth_ambiguity_keeps_the_2d_skeleton(labels, body):
    pose, betas = labels
    r = corrupt_labels(pose, betas, 1.0, np.random.default_rng(3), kinds=("depth_ambiguity",))
    a, b = _joints(body, pose, betas), _joints(body, r.pose, r.betas)
    err3d = np.linalg.norm(a - b, axis=2).mean()
    err2d = np.linalg.norm(a[..., :2] - b[..., :2], axis=2).mean()
    assert err3d > 0.15 and err2d < 0.25 * err3d


def test_limb_swap_mirrors_one_side_onto_the_other(labels):
    pose, betas = labels
    r = corrupt_labels(pose, betas, 1.0, np.random.default_rng(4), kinds=("limb_swap",))
    p, q = pose.reshape(-1, 24, 3), r.pose.reshape(-1, 24, 3)
    swapped = r.kind == "limb_swap"
    assert swapped.sum() > len(pose) // 2
    per_row = [
        np.allclose(q[i, 16], p[i, 17] * [1, -1, -1], atol=1e-6) or np.allclose(q[i, 1], p[i, 2] * [1, -1, -1], atol=1e-6)
        for i in np.flatnonzero(swapped)
    ]
    assert all(per_row)


def test_bad_arguments_are_refused(labels):
    pose, betas = labels
    with pytest.raises(DataError, match="fraction"):
        corrupt_labels(pose, betas, 1.5, np.random.default_rng(0))
    with pytest.raises(DataError, match="unknown kinds"):
        corrupt_labels(pose, betas, 0.5, np.random.default_rng(0), kinds=("bad_luck",))
    with pytest.raises(DataError, match="expected pose"):
        corrupt_labels(pose[:, :69], betas, 0.5, np.random.default_rng(0))
