"""The body fit: recovers bodies from their own keypoints, robust, batched, within limits."""

import numpy as np
import torch
from fit_data import make_people

from engine.fitting import FitConfig, fit_bodies
from engine.fitting.losses import project_crop
from engine.fitting.priors import BEND_JOINTS, bend_limit_bounds
from engine.metrics import mpjpe, pa_mpjpe
from engine.models.param_layout import ParamLayout

LAYOUT = ParamLayout()
EVAL12 = list(range(5, 17))


def _decode(body, params):
    pose, betas, cam = LAYOUT.to_axis_angle(params)
    with torch.no_grad():
        return body(pose, betas, cam, rotation_format="axis_angle"), pose


def _errors(pred, gt):
    """Hip-midpoint aligned MPJPE and PA-MPJPE (mm) on the 12 body joints, per person."""
    p, g = pred[:, EVAL12].numpy(), gt[:, EVAL12].numpy()
    p = p - p[:, 6:8].mean(1, keepdims=True)
    g = g - g[:, 6:8].mean(1, keepdims=True)
    return mpjpe(p, g, root_index=None), pa_mpjpe(p, g)


def _world(kp3d):
    """World landmarks at the COCO points: hip-midpoint origin, camera axes."""
    return kp3d - kp3d[:, 11:13].mean(1, keepdim=True)


def test_fit_recovers_a_body_from_its_own_keypoints(body):
    torch.manual_seed(0)
    _, _, _, kp, kp3d = make_people(body, 3, seed=1)
    start = fit_bodies(kp, body, world=_world(kp3d), config=FitConfig(world_steps=0, camera_steps=0, body_steps=0))
    res = fit_bodies(kp, body, world=_world(kp3d))
    out, _ = _decode(body, res.params)
    assert res.params.shape == (3, LAYOUT.dim) and torch.isfinite(res.params).all()
    # Under 1.5 pixels of a 224-pixel crop, from tens of pixels at the start.
    assert (res.reprojection * 112 < 1.5).all()
    assert (start.reprojection * 112 > 5).all()
    err, pa = _errors(out.keypoints, kp3d)
    start_err, _ = _errors(_decode(body, start.params)[0].keypoints, kp3d)
    assert (err < 45).all() and (pa < 35).all(), (err, pa)
    assert (err < start_err / 2).all()


def test_the_world_stage_poses_the_body_on_the_world_landmarks_alone(body):
    _, _, _, kp, kp3d = make_people(body, 3, seed=6)
    world = _world(kp3d)
    world[2] = float("nan")  # nobody to pose on: this person must not move
    start = fit_bodies(kp, body, world=world, config=FitConfig(world_steps=0, camera_steps=0, body_steps=0))
    posed = fit_bodies(kp, body, world=world, config=FitConfig(camera_steps=0, body_steps=0))
    _, start_pa = _errors(_decode(body, start.params)[0].keypoints, kp3d)
    _, posed_pa = _errors(_decode(body, posed.params)[0].keypoints, kp3d)
    # From the prior's mean pose towards the world landmarks' pose (40 steps: a start, not
    # a converged fit), without looking at the keypoints.
    assert (posed_pa[:2] < 0.75 * start_pa[:2]).all(), (start_pa, posed_pa)
    torch.testing.assert_close(posed.params[2], start.params[2])


def test_with_the_focal_length_a_close_up_is_fitted_in_perspective(body):
    pose, betas, cam, _, kp3d = make_people(body, 3, seed=8)
    # A wide-angle close-up: the crop's focal length is 1.5 half-crop-sides, so the body's
    # depth (about +-0.3 m at 1.5 m) changes its image scale by a fifth front to back.
    focal = torch.full((3,), 1.5)
    kp = torch.cat([project_crop(kp3d.double(), cam.double(), 1 / focal.double()).float(),
                    torch.ones(3, 17, 1)], dim=-1)
    world = _world(kp3d)
    weak = fit_bodies(kp, body, world=world)
    persp = fit_bodies(kp, body, world=world, focal=focal)
    weak_err, _ = _errors(_decode(body, weak.params)[0].keypoints, kp3d)
    persp_err, persp_pa = _errors(_decode(body, persp.params)[0].keypoints, kp3d)
    assert (persp.reprojection * 112 < 1.0).all() and (persp.reprojection < weak.reprojection).all()
    assert persp_err.mean() < 0.8 * weak_err.mean() and (persp_pa < 35).all(), (weak_err, persp_err, persp_pa)


def test_missing_and_outlier_keypoints_barely_move_the_fit(body):
    _, _, _, kp, kp3d = make_people(body, 1, seed=2)
    world = _world(kp3d)
    clean = fit_bodies(kp, body, world=world)
    broken = kp.clone()
    broken[0, 9, 2] = 0.0  # left wrist missing
    broken[0, 16, :2] += torch.tensor([1.5, -1.2])  # right ankle 215 crop pixels off, full confidence
    robust = fit_bodies(broken, body, world=world)
    out_clean, _ = _decode(body, clean.params)
    out_robust, _ = _decode(body, robust.params)
    others = [j for j in range(17) if j not in (9, 16)]
    # The other keypoints still land on their detections (within 4 crop pixels) ...
    dist = (out_robust.keypoints_2d[0, others] - kp[0, others, :2]).norm(dim=-1) * 112
    assert dist.max() < 4, dist
    # ... the outlier is not followed (a squared loss would drag the ankle most of the way) ...
    assert (out_robust.keypoints_2d[0, 16] - broken[0, 16, :2]).norm() * 112 > 150
    # ... and the rest of the body stays within a few centimetres of the clean fit.
    rest = [j for j in EVAL12 if j not in (9, 16)]
    gap = (out_robust.keypoints[0, rest] - out_clean.keypoints[0, rest]).norm(dim=-1) * 1000
    assert gap.mean() < 30, gap


def test_batched_fit_equals_one_person_at_a_time(body):
    _, _, _, kp, kp3d = make_people(body, 3, seed=3)
    world = _world(kp3d)
    world[1] = float("nan")  # one person without world landmarks
    cfg = FitConfig(camera_steps=10, body_steps=30)
    batched = fit_bodies(kp, body, world=world, config=cfg)
    for i in range(3):
        alone = fit_bodies(kp[i : i + 1], body, world=world[i : i + 1], config=cfg)
        torch.testing.assert_close(batched.params[i : i + 1], alone.params, atol=2e-4, rtol=0)
    no_world = fit_bodies(kp[1:2], body, config=cfg)
    torch.testing.assert_close(batched.params[1:2], no_world.params, atol=2e-4, rtol=0)


def test_knees_and_elbows_stay_within_their_bend_limits(body):
    pose, betas, cam, _, _ = make_people(body, 1, seed=4)
    bent = pose.clone().reshape(1, 24, 3)
    bent[0, 4] = torch.tensor([-0.8, 0.0, 0.0])  # left knee bent backwards by 46 degrees
    bent[0, 18] = torch.tensor([0.0, 0.9, 0.0])  # left elbow bent backwards by 52 degrees
    with torch.no_grad():
        out = body(bent.reshape(1, 72), betas, cam, rotation_format="axis_angle")
    kp = torch.cat([out.keypoints_2d, torch.ones(1, 17, 1)], dim=-1)
    res = fit_bodies(kp, body)
    _, fitted = _decode(body, res.params)
    lo, hi = bend_limit_bounds()
    got = fitted.reshape(1, 24, 3)[0, list(BEND_JOINTS)].numpy()
    slack = np.radians(3.0)
    assert (got >= lo - slack).all() and (got <= hi + slack).all(), np.degrees(got)


def test_refining_a_candidate_moves_it_onto_the_keypoints(body):
    pose, betas, cam, kp, _ = make_people(body, 2, seed=5)
    gen = torch.Generator().manual_seed(0)
    off = pose + torch.randn(pose.shape, generator=gen) * 0.15
    start = LAYOUT.from_axis_angle(off, betas, cam * 1.05)
    before = fit_bodies(kp, body, init=start, config=FitConfig(refine_steps=0))
    after = fit_bodies(kp, body, init=start)
    torch.testing.assert_close(before.params, start, atol=1e-5, rtol=0)
    assert (after.reprojection < before.reprojection / 2).all(), (before.reprojection, after.reprojection)
