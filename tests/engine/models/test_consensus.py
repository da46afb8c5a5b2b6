"""The sample-consensus term: distances between a person's candidates, and how they move scores."""

import numpy as np
import pytest
import torch

from engine.body.model import BodyModel
from engine.body.named_poses import NAMED_POSES
from engine.errors import ShapeError
from engine.models.consensus import consensus_adjustment, mean_sibling_distance


def _joints(seed=0, N=2, M=6, spread=0.01):
    """(N, M, 24, 3) candidates scattered around one body per person, metres."""
    g = torch.Generator().manual_seed(seed)
    body = BodyModel()
    pose = torch.from_numpy(NAMED_POSES[sorted(NAMED_POSES)[1]].reshape(1, 72).astype(np.float32))
    centre = body(pose, torch.zeros(1, 10), rotation_format="axis_angle").joints  # (1, 24, 3)
    return centre[:, None].expand(N, M, 24, 3) + spread * torch.randn(N, M, 24, 3, generator=g)


def _similarity(points, angle=0.7, scale=1.3, shift=(0.2, -0.1, 3.0)):
    c, s = np.cos(angle), np.sin(angle)
    rot = torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float32)
    return scale * points @ rot.T + torch.tensor(shift)


def test_a_moved_rotated_rescaled_copy_is_no_distance_away():
    joints = _joints(M=3)
    joints[:, 1] = _similarity(joints[:, 0])
    joints[:, 2] = _similarity(joints[:, 0], angle=-1.2, scale=0.8)
    assert mean_sibling_distance(joints).abs().max().item() < 1e-2  # mm


def test_the_candidate_that_disagrees_is_farthest_and_loses_score():
    joints = _joints(M=8)
    joints[0, 5, 18:24] += torch.tensor([0.0, 0.25, 0.1])  # one arm somewhere else
    d = mean_sibling_distance(joints)
    assert d.shape == (2, 8) and d.dtype == torch.float32
    assert int(d[0].argmax()) == 5 and d[0, 5] > 2 * d[0, :5].max()
    adj = consensus_adjustment(d, 0.03)
    assert int(adj[0].argmin()) == 5
    # Centred per person: the average score level of a person does not move.
    assert adj.mean(dim=1).abs().max().item() < 1e-5


def test_mean_is_over_the_other_candidates_only():
    joints = _joints(M=3, spread=0.0)
    joints[0, 2, 20] += torch.tensor([0.0, 0.24, 0.0])
    d = mean_sibling_distance(joints)
    # Candidates 0 and 1 are identical: each is one identical sibling and one distant one away.
    assert d[0, 0].item() == pytest.approx(d[0, 1].item(), abs=1e-3)
    assert d[0, 0].item() == pytest.approx(d[0, 2].item() / 2, rel=0.2)
    assert d[1].abs().max().item() < 1e-2


def test_large_sets_compare_with_an_even_subset():
    joints = _joints(N=1, M=30, spread=0.03)
    exact = mean_sibling_distance(joints)
    subset = mean_sibling_distance(joints, max_references=10)
    assert subset.shape == (1, 30)
    assert torch.corrcoef(torch.stack([exact[0], subset[0]]))[0, 1] > 0.8


def test_too_few_candidates_or_no_weight_changes_nothing():
    d = mean_sibling_distance(_joints(M=2))
    assert torch.equal(consensus_adjustment(d, 0.03), torch.zeros(2, 2))
    assert torch.equal(mean_sibling_distance(_joints(M=1)), torch.zeros(2, 1))
    assert torch.equal(consensus_adjustment(mean_sibling_distance(_joints(M=5)), 0.0), torch.zeros(2, 5))


def test_wrong_shape_is_refused():
    with pytest.raises(ShapeError, match="expected"):
        mean_sibling_distance(torch.zeros(2, 5, 24))
