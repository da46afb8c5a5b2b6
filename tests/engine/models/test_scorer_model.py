"""HMR-Scorer: shapes, joint sampling coordinates, chunking, bad input."""

import pytest
import torch

from engine.body.projection import project_weak_perspective
from engine.errors import ShapeError
from engine.models.scorer import HMRScorer, ScorerConfig
from engine.models.scorer_parts import ImageEncoder, joint_inputs, sample_local_features

TINY = ScorerConfig(crop_size=64, width=32, layers=1, heads=2, grid=4)


def _inputs(N=2, M=5, S=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randn(N, 3, S, S, generator=g)
    keypoints = torch.cat([torch.rand(N, 17, 2, generator=g) * 2 - 1, torch.rand(N, 17, 1, generator=g)], -1)
    crop = torch.rand(N, M, 41, 2, generator=g) * 2 - 1
    depth = torch.randn(N, M, 41, generator=g) * 0.2
    return images, keypoints, crop, depth


def _scorer(seed=0):
    torch.manual_seed(seed)
    return HMRScorer(TINY).eval()


def test_scores_have_one_value_per_candidate_in_unit_interval():
    scores = _scorer()(*_inputs(N=3, M=7))
    assert scores.shape == (3, 7)
    assert ((scores > 0) & (scores < 1)).all()


def test_bright_spot_is_read_at_its_crop_coordinate():
    S = 16
    fmap = torch.zeros(1, 1, S, S)
    row, col = 5, 11
    fmap[0, 0, row, col] = 1.0
    # Crop pixel p's centre is at (p + 0.5) * 2 / S - 1 (engine.data.crops convention).
    at_spot = torch.tensor([[[(col + 0.5) * 2 / S - 1, (row + 0.5) * 2 / S - 1]]])
    next_pixel = at_spot + torch.tensor([2 / S, 0.0])
    half_pixel = at_spot + torch.tensor([1 / S, 0.0])
    values = sample_local_features(fmap, torch.cat([at_spot, next_pixel, half_pixel], 1))[0, :, 0]
    assert values.tolist() == pytest.approx([1.0, 0.0, 0.5], abs=1e-6)


def test_stride_four_map_cell_is_read_at_the_centre_of_its_pixels():
    S, stride = 64, 4
    fmap = torch.zeros(1, 1, S // stride, S // stride)
    fmap[0, 0, 3, 9] = 1.0
    # Cell (3, 9) covers crop pixels 36..39 across and 12..15 down; its centre is pixel 37.5 / 13.5.
    point = torch.tensor([[[(37.5 + 0.5) * 2 / S - 1, (13.5 + 0.5) * 2 / S - 1]]])
    assert sample_local_features(fmap, point)[0, 0, 0].item() == pytest.approx(1.0, abs=1e-6)


def test_local_map_cells_are_centred_where_grid_sample_reads_them():
    # The two stride-2 convolutions down to the stride-4 local map, with unit weights: the
    # pixels feeding cell (r, c) must be centred on pixel (4r + 1.5, 4c + 1.5).
    encoder = ImageEncoder(32)
    convs = [encoder.stage1[0][0], encoder.stage2[0][0]]
    chain = torch.nn.Sequential(*[
        torch.nn.Conv2d(1, 1, c.kernel_size, c.stride, c.padding, bias=False) for c in convs
    ])
    for conv in chain:
        torch.nn.init.ones_(conv.weight)
    image = torch.zeros(1, 1, 64, 64, requires_grad=True)
    chain(image)[0, 0, 5, 9].backward()
    weight = image.grad[0, 0]
    rows, cols = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    assert float((weight * rows).sum() / weight.sum()) == pytest.approx(4 * 5 + 1.5)
    assert float((weight * cols).sum() / weight.sum()) == pytest.approx(4 * 9 + 1.5)


def test_joint_inputs_are_projections_and_depths_from_the_pelvis():
    g = torch.Generator().manual_seed(1)
    joints = torch.randn(2, 3, 24, 3, generator=g)
    kp3d = torch.randn(2, 3, 17, 3, generator=g)
    cam = torch.tensor([0.8, 0.1, -0.2]).expand(6, 3)
    j2d = project_weak_perspective(joints.reshape(6, 24, 3), cam).reshape(2, 3, 24, 2)
    k2d = project_weak_perspective(kp3d.reshape(6, 17, 3), cam).reshape(2, 3, 17, 2)
    crop, depth = joint_inputs(joints, kp3d, j2d, k2d)
    assert crop.shape == (2, 3, 41, 2) and depth.shape == (2, 3, 41)
    assert torch.equal(crop[:, :, 24:], k2d)
    assert depth[..., 0].abs().max() == 0
    assert torch.allclose(depth[..., 30], kp3d[..., 6, 2] - joints[..., 0, 2])


def test_chunked_scoring_matches_one_pass_and_follows_candidate_order():
    scorer = _scorer()
    images, keypoints, crop, depth = _inputs(N=2, M=9)
    with torch.no_grad():
        whole = scorer.logits(images, keypoints, crop, depth)
        chunked = scorer.logits(images, keypoints, crop, depth, max_sequences=4)
        perm = torch.randperm(9, generator=torch.Generator().manual_seed(0))
        permuted = scorer.logits(images, keypoints, crop[:, perm], depth[:, perm])
    assert torch.allclose(whole, chunked, atol=1e-5)
    assert torch.allclose(permuted, whole[:, perm], atol=1e-5)


def test_score_depends_on_the_candidate_and_the_image():
    scorer = _scorer()
    images, keypoints, crop, depth = _inputs(N=2, M=4)
    with torch.no_grad():
        base = scorer.logits(images, keypoints, crop, depth)
        moved = scorer.logits(images, keypoints, crop + 0.3, depth)
        other_image = scorer.logits(images.flip(0), keypoints, crop, depth)
    assert (base - moved).abs().max() > 1e-4
    assert (base - other_image).abs().max() > 1e-4


def test_no_candidates_gives_an_empty_score_table():
    images, keypoints, crop, depth = _inputs(N=2, M=0)
    assert _scorer()(images, keypoints, crop, depth).shape == (2, 0)


@pytest.mark.parametrize("what", ["images", "keypoints", "crop", "depth"])
def test_nan_inputs_are_refused(what):
    inputs = dict(zip(("images", "keypoints", "crop", "depth"), _inputs()))
    inputs[what] = inputs[what].clone()
    inputs[what].view(-1)[3] = float("nan")
    with pytest.raises(ShapeError, match="NaN"):
        _scorer()(*inputs.values())


def test_wrong_shapes_are_refused():
    images, keypoints, crop, depth = _inputs()
    scorer = _scorer()
    with pytest.raises(ShapeError, match="images"):
        scorer(torch.zeros(2, 3, 32, 32), keypoints, crop, depth)
    with pytest.raises(ShapeError, match="candidate joints"):
        scorer(images, keypoints, crop[:, :, :24], depth)
    with pytest.raises(ShapeError, match="candidate depths"):
        scorer(images, keypoints, crop, depth[:, :3])
    with pytest.raises(ShapeError, match="crop_size"):
        ScorerConfig(crop_size=60)
