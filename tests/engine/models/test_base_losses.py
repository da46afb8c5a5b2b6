"""Loss terms of the base model, and the training loss on a batch with partial labels."""

from __future__ import annotations

import pytest
import torch

from engine.body.model import BodyModel
from engine.models.diffusion_hmr import DiffusionHMR, stratified_timesteps
from engine.models.param_layout import ParamLayout
from engine.models import losses


def test_keypoint_loss_ignores_points_without_confidence():
    target = torch.zeros(2, 17, 3)
    target[..., 2] = 1.0
    target[1, 4, 2] = 0.0
    pred = torch.zeros(2, 17, 2)
    pred[:, 4] = 10.0
    out = losses.keypoint_2d_loss(pred, target)
    assert out[1] == 0 and out[0] == pytest.approx(20.0 / 17)


def test_root_aligned_error_ignores_where_the_body_is():
    a = torch.randn(3, 24, 3)
    shifted = a + torch.tensor([1.0, -2.0, 5.0])
    assert torch.allclose(losses.root_aligned_l1(shifted, a, shifted[:, 0], a[:, 0]), torch.zeros(3), atol=1e-6)


def test_masks_drop_unknown_labels():
    layout = ParamLayout()
    mask = losses.parameter_mask(layout, torch.tensor([True, False]), torch.tensor([False, True]), torch.tensor([True, True]))
    assert mask[0].sum() == layout.rot_size + 3 and mask[1].sum() == layout.num_betas + 3
    assert losses.masked_mean(torch.tensor([1.0, 3.0]), torch.tensor([False, False])) == 0
    assert losses.masked_mean(torch.tensor([1.0, 3.0]), torch.tensor([False, True])) == 3


def test_stratified_timesteps_cover_the_range():
    t = stratified_timesteps(8, 1000)
    assert t.dtype == torch.long and t.min() >= 0 and t.max() < 1000
    assert sorted((t // 125).tolist()) == list(range(8))


def test_training_loss_on_partly_labelled_batch_has_finite_gradients():
    body = BodyModel()
    torch.manual_seed(0)
    model = DiffusionHMR({"crop_size": 64, "width": 32, "layers": 1, "heads": 2}, body=body)
    B = 4
    batch = {
        "image": torch.randn(B, 3, 64, 64), "keypoints": torch.rand(B, 17, 3),
        "pose": torch.randn(B, 72) * 0.2, "betas": torch.randn(B, 10), "camera": torch.tensor([[0.9, 0.0, 0.1]] * B),
        "has_pose": torch.tensor([1.0, 1.0, 0.0, 0.0]), "has_betas": torch.tensor([1.0, 0.0, 0.0, 0.0]),
        "has_camera": torch.tensor([1.0, 1.0, 1.0, 0.0]),
    }
    loss, logs = model.training_loss(batch, body)
    loss.backward()
    assert set(logs) == {"x0", "keypoints_2d", "joints_3d", "vertices", "loss"}
    assert logs["joints_3d"] > 0 and logs["vertices"] > 0
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    # Without any 3D label only the 2D term remains.
    for k in ("has_pose", "has_betas", "has_camera"):
        batch[k] = torch.zeros(B)
    _, logs = model.training_loss(batch, body)
    assert logs["x0"] == logs["joints_3d"] == logs["vertices"] == 0 and logs["keypoints_2d"] > 0
