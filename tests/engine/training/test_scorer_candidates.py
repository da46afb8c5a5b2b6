"""Scorer training candidates: noise from tiny to large, true errors, the ranking loss."""

import numpy as np
import pytest
import torch

from engine.body.named_poses import NAMED_POSES
from engine.errors import ShapeError
from engine.metrics import mpjpe, pa_mpjpe, pve, spearman
from engine.models.param_layout import ParamLayout
from engine.training.candidate_noise import (
    CandidateNoise,
    RestRootJoint,
    candidate_errors,
    noisy_candidates,
    pose_candidates,
)
from engine.training.scorer_train import ranknet_loss

LAYOUT = ParamLayout()



def _truth(n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    names = sorted(NAMED_POSES)
    pose = torch.stack([torch.as_tensor(NAMED_POSES[names[i]], dtype=torch.float32).reshape(72) for i in range(n)])
    pose[:, :3] = torch.tensor([np.pi, 0.0, 0.0])
    betas = torch.randn(n, 10, generator=g) * 0.5
    cam = torch.tensor([0.9, 0.0, 0.1]).expand(n, 3)
    return LAYOUT.from_axis_angle(pose, betas, cam)


def _errors(body, params, gt):
    posed = pose_candidates(body, params)
    truth = pose_candidates(body, gt[:, None])
    return candidate_errors(posed.joints, posed.vertices, truth.joints[:, 0], truth.vertices[:, 0]), posed


def test_first_candidate_is_the_truth_and_the_rest_differ(body):
    gt = _truth()
    params = noisy_candidates(gt, 6, torch.Generator().manual_seed(0))
    assert params.shape == (3, 6, LAYOUT.dim)
    assert torch.equal(params[:, 0], gt)
    errors, _ = _errors(body, params, gt)
    for name in ("MPJPE", "PA-MPJPE", "PVE"):
        assert errors[name][:, 0].abs().max() < 1e-2
        assert (errors[name][:, 1:] > 0.1).all()


def test_noise_level_sets_the_error_size(body):
    gt = _truth()
    g = torch.Generator().manual_seed(1)
    tiny = noisy_candidates(gt, 8, g, CandidateNoise(min_level=0.02, max_level=0.02), include_gt=False)
    large = noisy_candidates(gt, 8, g, CandidateNoise(min_level=1.0, max_level=1.0), include_gt=False)
    e_tiny, _ = _errors(body, tiny, gt)
    e_large, _ = _errors(body, large, gt)
    assert e_tiny["MPJPE"].max() < 15
    assert e_large["MPJPE"].mean() > 80
    assert e_large["PVE"].mean() > 5 * e_tiny["PVE"].mean()


def test_default_noise_spreads_errors_from_tiny_to_large(body):
    params = noisy_candidates(_truth(), 32, torch.Generator().manual_seed(2))
    errors, _ = _errors(body, params, _truth())
    mm = errors["PA-MPJPE"][:, 1:]
    assert mm.min() < 5 and mm.max() > 60


def test_candidates_are_reproducible_from_the_seed():
    a = noisy_candidates(_truth(), 5, torch.Generator().manual_seed(3))
    b = noisy_candidates(_truth(), 5, torch.Generator().manual_seed(3))
    c = noisy_candidates(_truth(), 5, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_camera_noise_moves_the_projection_not_the_3d_errors(body):
    gt = _truth(1)
    noise = CandidateNoise(pose_sigma=0.0, orient_sigma=0.0, betas_sigma=0.0, cam_trans_sigma=0.3, min_level=1.0)
    params = noisy_candidates(gt, 4, torch.Generator().manual_seed(5), noise)
    errors, posed = _errors(body, params, gt)
    assert errors["MPJPE"].max() < 0.5
    assert (posed.crop[0, 1:] - posed.crop[0, :1]).abs().max() > 0.05


def test_errors_agree_with_the_metrics(body):
    gt = _truth(2)
    params = noisy_candidates(gt, 3, torch.Generator().manual_seed(6))
    errors, posed = _errors(body, params, gt)
    truth = pose_candidates(body, gt[:, None])
    j, tj = posed.joints[1], truth.joints[1].expand(3, -1, -1)
    assert torch.allclose(errors["MPJPE"][1], mpjpe(j, tj), atol=1e-3)
    assert torch.allclose(errors["PA-MPJPE"][1], pa_mpjpe(j, tj), atol=1e-3)
    v, tv = posed.vertices[1], truth.vertices[1].expand(3, -1, -1)
    assert torch.allclose(errors["PVE"][1], pve(v, tv, j[:, 0], tj[:, 0]), atol=1e-3)


def test_rest_root_joint_matches_the_body_model(body):
    betas = torch.randn(3, 10, generator=torch.Generator().manual_seed(7))
    joints = body(torch.zeros(3, 24, 3), betas, rotation_format="axis_angle").joints[:, 0]
    root = RestRootJoint(body)
    for b, j in zip(betas, joints):
        np.testing.assert_allclose(root(b.numpy()), j.numpy(), atol=1e-5)


def test_bad_candidate_requests_are_refused():
    with pytest.raises(ShapeError):
        noisy_candidates(_truth(), 0, torch.Generator())
    with pytest.raises(ShapeError):
        noisy_candidates(torch.zeros(2, 10), 4, torch.Generator())
    with pytest.raises(ShapeError):
        CandidateNoise(min_level=0.5, max_level=0.1)


def test_ranknet_prefers_the_right_order_and_skips_ties():
    errors = {"e": torch.tensor([[10.0, 20.0, 30.0, 30.0]])}
    right = torch.tensor([[3.0, 2.0, 1.0, 0.0]])
    loss_right, acc_right = ranknet_loss(right, errors)
    loss_wrong, acc_wrong = ranknet_loss(-right, errors)
    assert loss_right < loss_wrong
    # 5 ordered pairs (the tied 30/30 pair is skipped); the right order gets all of them.
    assert acc_right == 1.0 and acc_wrong == 0.0
    assert ranknet_loss(right, {"e": torch.full((1, 4), 5.0)})[0] == 0


def test_ranknet_sums_one_term_per_error():
    logits = torch.tensor([[0.5, -0.2, 0.1]])
    e = torch.tensor([[1.0, 2.0, 3.0]])
    one, _ = ranknet_loss(logits, {"a": e})
    three, _ = ranknet_loss(logits, {"a": e, "b": e, "c": e})
    assert three == pytest.approx(3 * float(one))


def test_gradient_descent_on_ranknet_recovers_the_order():
    errors = {"e": torch.rand(4, 8, generator=torch.Generator().manual_seed(8)) * 100}
    logits = torch.zeros(4, 8, requires_grad=True)
    opt = torch.optim.SGD([logits], lr=20.0)
    first = None
    for _ in range(50):
        loss, _ = ranknet_loss(logits, errors)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first
    assert all(spearman(-logits[i].detach().numpy(), errors["e"][i].numpy()) > 0.95 for i in range(4))


def test_training_inputs_match_what_the_scorer_reads_at_inference(body):
    """The scorer must see the same joints in training (pose_candidates) as when it scores
    decoded samples (decode_candidates + score_candidates)."""
    from engine.models.candidates import decode_candidates
    from engine.models.scorer import HMRScorer, ScorerConfig
    from engine.models.scorer_parts import joint_inputs

    params = noisy_candidates(_truth(2), 3, torch.Generator().manual_seed(9))
    posed = pose_candidates(body, params)
    decoded = decode_candidates(params, LAYOUT, body, torch.zeros(2, 2), torch.full((2,), 100.0), with_vertices=False)
    crop, depth = joint_inputs(decoded.joints, decoded.keypoints3d, decoded.joints_2d, decoded.keypoints_2d)
    assert torch.allclose(crop, posed.crop, atol=1e-5) and torch.allclose(depth, posed.depth, atol=1e-5)

    torch.manual_seed(0)
    scorer = HMRScorer(ScorerConfig(64, 32, 1, 2, grid=4)).eval()
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    keypoints = torch.rand(2, 17, 3)
    with torch.no_grad():
        direct = scorer(images, keypoints, posed.crop, posed.depth)
    assert torch.allclose(scorer.score_candidates(images, keypoints, decoded), direct, atol=1e-5)
    # A base model's larger crops are resampled to the scorer's size.
    big = torch.nn.functional.interpolate(images, size=(128, 128), mode="bilinear", align_corners=False)
    assert scorer.score_candidates(big, keypoints, decoded).shape == (2, 3)
