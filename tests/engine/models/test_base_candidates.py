"""Decoding sampled parameter vectors into candidate bodies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.body.named_poses import NAMED_POSES
from engine.errors import ShapeError
from engine.models.candidates import decode_candidates
from engine.models.param_layout import ParamLayout

LAYOUT = ParamLayout()



def _params(names: list[list[str]]) -> torch.Tensor:
    """(N, M, D) upright people in named poses, camera s = 0.8."""
    rows = []
    for person in names:
        poses = []
        for name in person:
            pose = NAMED_POSES[name].copy()
            pose[0] = [np.pi, 0, 0]
            poses.append(pose.reshape(72))
        pose = torch.tensor(np.stack(poses))
        M = len(person)
        rows.append(LAYOUT.from_axis_angle(pose, torch.zeros(M, 10), torch.tensor([[0.8, 0.0, 0.05]] * M)))
    return torch.stack(rows)


def test_decoded_candidates_have_every_field_and_place_people_in_the_crop(body):
    params = _params([["a_pose", "walk", "sit"], ["squat", "run", "t_pose"]])
    centre = torch.tensor([[300.0, 200.0], [100.0, 400.0]])
    size = torch.tensor([200.0, 120.0])
    c = decode_candidates(params, LAYOUT, body, centre, size, chunk_size=4)
    V = body.num_vertices
    assert (c.num_persons, c.num_hypotheses) == (2, 3)
    assert c.vertices.shape == (2, 3, V, 3) and c.joints.shape == (2, 3, 24, 3)
    assert c.keypoints3d.shape == (2, 3, 17, 3) and c.pose_aa.shape == (2, 3, 72)
    assert c.joints_crop.shape == (2, 3, 24, 2) and c.keypoints_px.shape == (2, 3, 17, 2)
    assert c.scores is None
    # Upright: the nose is above the ankles in the image; everyone lies within their crop.
    assert (c.keypoints_px[..., 0, 1] < c.keypoints_px[..., 15, 1]).all()
    for n in range(2):
        inside = (c.joints_px[n] - centre[n]).abs() <= size[n] / 2
        assert inside.all()
    # Pixels are the crop coordinates mapped through the crop.
    expected = centre[1] + c.keypoints_crop[1] * size[1] / 2
    assert torch.allclose(c.keypoints_px[1], expected, atol=1e-4)
    # The round trip through axis-angle gives the poses back.
    assert torch.allclose(LAYOUT.from_axis_angle(c.pose_aa, c.betas, c.cam), params, atol=1e-4)


def test_meshes_can_be_left_out_and_chunking_does_not_change_the_result(body):
    params = _params([["a_pose", "walk", "sit", "kneel"]])
    args = (params, LAYOUT, body, torch.tensor([[0.0, 0.0]]), torch.tensor([2.0]))
    a = decode_candidates(*args, with_vertices=False)
    b = decode_candidates(*args, chunk_size=3)
    assert a.vertices is None
    assert torch.allclose(a.joints, b.joints, atol=1e-5)
    assert torch.allclose(a.keypoints3d, b.keypoints3d, atol=1e-5)


def test_scores_rank_the_candidates(body):
    c = decode_candidates(_params([["a_pose", "walk", "sit"]]), LAYOUT, body, torch.zeros(1, 2), torch.ones(1),
                          with_vertices=False)
    assert c.ranking().tolist() == [[0, 1, 2]]
    scored = c.with_scores(torch.tensor([[0.2, 0.9, 0.5]]))
    assert scored.ranking().tolist() == [[1, 2, 0]]
    with pytest.raises(ShapeError):
        c.with_scores(torch.ones(1, 4))
    with pytest.raises(ShapeError):
        decode_candidates(torch.zeros(2, 3, 150), LAYOUT, body, torch.zeros(2, 2), torch.ones(2))
