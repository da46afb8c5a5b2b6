"""SMPLify-style fit of the body to each person's keypoints (and world landmarks), batched.

As in SPIN's SMPLify: Adam, first the camera and the root orientation on the torso
keypoints, then everything; a Geman–McClure reprojection term weighted by the detector's
confidence, a pose prior, a shape prior and knee/elbow bend limits; plus (this project) a
low-weight term on the bone directions of BlazePose's 3D world landmarks. Before the
camera stage, a world stage poses the body on those bone directions alone (and the
priors): 2D keypoints cannot tell which way a limb points in depth, so the body starts
in the world landmarks' depth configuration rather than the prior's mean one, and the
low-weight term keeps it near there while the keypoints settle the rest. The camera is
the diffusion model's weak-perspective crop camera (s, tx, ty), so the result is a
parameter vector in the same layout as the model's candidates (``ParamLayout``).

A person without world landmarks is fitted from two starts (facing as the 2D torso
suggests, and turned half round), and the one with the lower final loss is kept.

People are independent rows of one batch: the loss is a sum of per-person terms and Adam
works element-wise, so a person's fit does not depend on who else is in the batch. The
optimisation runs in float64 (it is cheap: the keypoints come from ``KeypointModel``, 17
points, not the mesh): Adam's normalised steps would otherwise amplify float32 rounding,
which differs with the batch size, into visibly different fits.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch

from engine.body.bones import BONES, bone_directions, bone_weights
from engine.body.camera_fit import TORSO, fit_weak_perspective
from engine.body.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_rotation_6d,
    rotation_6d_to_matrix,
)
from engine.errors import JobCancelled, ShapeError
from engine.fitting.camera_init import orientation_from_keypoints, orientation_from_world
from engine.fitting.keypoint_model import KeypointModel
from engine.fitting.losses import bone_direction_loss, project_crop, reprojection_loss
from engine.fitting.priors import bend_limit_penalty, pose_prior, shape_prior
from engine.models.param_layout import ParamLayout

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""progress(steps done, steps in all)."""

_KEYPOINT_MODELS: "weakref.WeakKeyDictionary[torch.nn.Module, KeypointModel]" = weakref.WeakKeyDictionary()


def keypoint_model(body) -> KeypointModel:
    """The body's folded keypoint model, built once per body (a tenth of a second)."""
    km = _KEYPOINT_MODELS.get(body)
    if km is None or km.W.device != body.device:
        km = KeypointModel(body)
        _KEYPOINT_MODELS[body] = km
    return km


@dataclass(frozen=True)
class FitConfig:
    """Steps and weights of the fit (losses in squared 224-crop pixels, see ``losses``).

    world_steps / camera_steps / body_steps: Adam steps of the three stages (see
    ``fit_bodies``). refine_steps: body steps of a refinement that starts from a
    candidate. lr: Adam's step size (radians, shape units and camera units alike).
    sigma: Geman–McClure scale, crop pixels. pose_prior_weight, shape_prior_weight,
    bend_weight, world_weight: term weights of the body stage; world_init_weight: the
    world landmarks' weight in the world stage.

    The defaults were chosen on synthetic validation renders through the real detector
    (``benchmarks/bench_fit.py --renders``), never on the real-footage benchmark.
    """

    world_steps: int = 40
    camera_steps: int = 20
    body_steps: int = 120
    refine_steps: int = 30
    lr: float = 0.03
    sigma: float = 30.0
    pose_prior_weight: float = 9.6
    shape_prior_weight: float = 5.0
    bend_weight: float = 1.0e4
    world_weight: float = 1.0
    world_init_weight: float = 50.0


@dataclass(frozen=True, eq=False)
class FitResult:
    """params: (B, D) float32 on the CPU, ``ParamLayout``. loss: (B,) final total loss.
    reprojection: (B,) confidence-weighted mean keypoint distance, normalised crop units
    (multiply by half the crop side for pixels)."""

    params: torch.Tensor
    loss: torch.Tensor
    reprojection: torch.Tensor


class _Vars(torch.nn.Module):
    """The optimised variables: root (B, 6) in 6D, body pose (B, 69) axis-angle, betas, cam."""

    def __init__(self, root6d: torch.Tensor, body_pose: torch.Tensor, betas: torch.Tensor, cam: torch.Tensor):
        super().__init__()
        self.root = torch.nn.Parameter(root6d.clone())
        self.pose = torch.nn.Parameter(body_pose.clone())
        self.betas = torch.nn.Parameter(betas.clone())
        self.cam = torch.nn.Parameter(cam.clone())

    def matrices(self) -> torch.Tensor:
        B = self.root.shape[0]
        root = rotation_6d_to_matrix(self.root)[:, None]
        return torch.cat([root, axis_angle_to_matrix(self.pose.reshape(B, 23, 3))], dim=1)


def _check(keypoints: torch.Tensor, world: torch.Tensor | None) -> None:
    if keypoints.ndim != 3 or tuple(keypoints.shape[1:]) != (17, 3):
        raise ShapeError(f"keypoints: expected (B, 17, 3) crop coordinates + confidence, got {tuple(keypoints.shape)}")
    if world is not None and tuple(world.shape) != (keypoints.shape[0], 17, 3):
        raise ShapeError(f"world points: expected ({keypoints.shape[0]}, 17, 3), got {tuple(world.shape)}")


@torch.enable_grad()  # an optimisation, whatever grad mode the caller holds
def fit_bodies(
    keypoints: torch.Tensor,
    body,
    world: torch.Tensor | None = None,
    init: torch.Tensor | None = None,
    config: FitConfig = FitConfig(),
    layout: ParamLayout = ParamLayout(),
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    focal: torch.Tensor | None = None,
) -> FitResult:
    """Fit the body to B people at once.

    keypoints: (B, 17, 3) COCO-17 in normalised crop coordinates + confidence (0 = missing).
    body: a BodyModel; the fit runs on its device.
    world: (B, 17, 3) the world landmarks at the COCO-17 points, metres, camera axes;
        rows of NaN (or None for all) where a person has none.
    init: (B, D) parameter vectors to start from (a refinement: no world or camera
        stage, ``config.refine_steps`` body steps); None starts from the prior's pose,
        then runs the world, camera and body stages.
    progress: called with (steps done, steps in all). should_cancel: polled every step;
        True raises JobCancelled.
    focal: (B,) each crop's focal length in normalised crop units (pixels / half the
        crop side) when the camera is known: the keypoints are then fitted with a
        perspective crop camera (``losses.project_crop``); None or inf: weak perspective.
    """
    keypoints = torch.as_tensor(keypoints, dtype=torch.float32)
    world = None if world is None else torch.as_tensor(world, dtype=torch.float32)
    _check(keypoints, world)
    dev = body.device
    kp = keypoints.to(dev, torch.float64)
    kp = torch.where(torch.isfinite(kp), kp, torch.zeros_like(kp))
    kp[..., 2] = kp[..., 2].clamp(0, 1)
    B = kp.shape[0]
    inv_focal = torch.zeros(B, device=dev, dtype=kp.dtype) if focal is None else \
        1.0 / torch.as_tensor(focal).to(dev, kp.dtype).reshape(B)
    target_dirs, dir_weights = _world_terms(world, kp, dev)
    prior = pose_prior()
    km = keypoint_model(body)
    rows = torch.arange(B, device=dev)
    if init is None:
        rows, R = _starts(kp, world, dir_weights)
        kp, target_dirs, dir_weights, inv_focal = kp[rows], target_dirs[rows], dir_weights[rows], inv_focal[rows]
        v = _initial_vars(kp, R, km, prior)
        # Nobody with world landmarks: the world stage would not move anyone, skip its cost.
        world_steps = config.world_steps if bool((dir_weights > 0).any()) else 0
        stages = [("world", world_steps), ("camera", config.camera_steps), ("body", config.body_steps)]
    else:
        v = _vars_from_params(torch.as_tensor(init).to(dev, torch.float64), layout)
        stages = [("body", config.refine_steps)]
    total = sum(n for _, n in stages)
    done = 0
    for stage, steps in stages:
        if stage == "camera":
            params, joints = [v.cam, v.root], list(TORSO)
        elif stage == "world":
            params, joints = [v.root, v.pose], None
        else:
            params, joints = list(v.parameters()), None
        opt = torch.optim.Adam(params, lr=config.lr)
        if stage == "camera" and any(name == "world" and n > 0 for name, n in stages):
            # The world stage has re-posed the body: place the camera for that pose.
            with torch.no_grad():
                v.cam.copy_(fit_weak_perspective(km(v.matrices(), v.betas)[0], kp))
        for _ in range(steps):
            if should_cancel is not None and should_cancel():
                raise JobCancelled("fit cancelled")
            opt.zero_grad(set_to_none=True)
            if stage == "world":
                loss = _world_stage_loss(v, km, target_dirs, dir_weights, prior, config)
            else:
                loss = _loss(v, km, kp, inv_focal, joints, target_dirs, dir_weights, prior, config, stage == "body")
            loss.sum().backward()
            opt.step()
            done += 1
            if progress is not None:
                progress(done, total)
    with torch.no_grad():
        loss = _loss(v, km, kp, inv_focal, None, target_dirs, dir_weights, prior, config, True)
        kp3d, _ = km(v.matrices(), v.betas)
        dist = (project_crop(kp3d, v.cam, inv_focal) - kp[..., :2]).norm(dim=-1)
        reproj = (dist * kp[..., 2]).sum(-1) / kp[..., 2].sum(-1).clamp(min=1e-8)
        rot6d = torch.cat([matrix_to_rotation_6d(rotation_6d_to_matrix(v.root))[:, None],
                           matrix_to_rotation_6d(axis_angle_to_matrix(v.pose.reshape(-1, 23, 3)))], dim=1)
        fitted = layout.join(rot6d, v.betas, v.cam)
        # Each person's best start.
        best = torch.stack([torch.nonzero(rows == i)[:, 0][loss[rows == i].argmin()] for i in range(B)])
    return FitResult(fitted[best].float().cpu(), loss[best].float().cpu(), reproj[best].float().cpu())


def _world_terms(world: torch.Tensor | None, kp: torch.Tensor, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Target bone directions (B, n, 3) and weights (B, n): zero for people without world points."""
    B = kp.shape[0]
    if world is None:
        return (torch.zeros(B, len(BONES), 3, device=dev, dtype=kp.dtype),
                torch.zeros(B, len(BONES), device=dev, dtype=kp.dtype))
    world = world.to(dev, kp.dtype)
    has = torch.isfinite(world).all(-1).all(-1)
    safe = torch.where(has[:, None, None], world, torch.zeros_like(world))
    weights = bone_weights(kp[..., 2]) * has[:, None].float()
    return bone_directions(safe), weights


def _starts(kp: torch.Tensor, world: torch.Tensor | None, dir_weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each person's fit starts: rows (S,) person index per start, R (S, 3, 3) root.

    A person with world landmarks starts once, turned as their torso is. A person without
    starts twice: as the 2D torso suggests, and turned half round about the body's up
    axis, since 2D keypoints alone cannot tell a body facing the camera from one facing
    away when the left/right cue is weak (side views, mislabelled sides); the start that
    ends with the lower loss wins.
    """
    B, dev = kp.shape[0], kp.device
    R = orientation_from_keypoints(kp)
    if world is not None:
        w = world.to(dev, kp.dtype)
        has = torch.isfinite(w).all(-1).all(-1)
        if has.any():
            R[has] = orientation_from_world(w[has])
    alone = torch.nonzero(dir_weights.sum(-1) == 0)[:, 0]
    half_turn = torch.diag(torch.tensor([-1.0, 1.0, -1.0], dtype=kp.dtype, device=dev))
    rows = torch.cat([torch.arange(B, device=dev), alone])
    return rows, torch.cat([R, R[alone] @ half_turn])


def _initial_vars(kp: torch.Tensor, R: torch.Tensor, km: KeypointModel, prior) -> _Vars:
    B, dev = kp.shape[0], kp.device
    body_pose = torch.as_tensor(prior.mean, device=dev, dtype=kp.dtype).expand(B, 69).clone()
    betas = torch.zeros(B, 10, device=dev, dtype=kp.dtype)
    with torch.no_grad():
        mats = torch.cat([R[:, None], axis_angle_to_matrix(body_pose.reshape(B, 23, 3))], dim=1)
        kp3d, _ = km(mats, betas)
        cam = fit_weak_perspective(kp3d, kp)
    return _Vars(matrix_to_rotation_6d(R), body_pose, betas, cam)


def _vars_from_params(params: torch.Tensor, layout: ParamLayout) -> _Vars:
    if params.ndim != 2 or params.shape[1] != layout.dim:
        raise ShapeError(f"initial parameters: expected (B, {layout.dim}), got {tuple(params.shape)}")
    rot, betas, cam = layout.split(params)
    B = params.shape[0]
    body_pose = matrix_to_axis_angle(rotation_6d_to_matrix(rot[:, 1:])).reshape(B, 69)
    return _Vars(matrix_to_rotation_6d(rotation_6d_to_matrix(rot[:, 0])), body_pose, betas, cam)


def _loss(v: _Vars, km: KeypointModel, kp, inv_focal, joints, target_dirs, dir_weights, prior, cfg: FitConfig,
          full: bool) -> torch.Tensor:
    """(B,) total loss per person; ``full`` adds the priors and the 3D term (body stage)."""
    kp3d, _ = km(v.matrices(), v.betas)
    loss = reprojection_loss(project_crop(kp3d, v.cam, inv_focal), kp, cfg.sigma, joints)
    if full:
        loss = loss + cfg.pose_prior_weight * prior.nll(v.pose)
        loss = loss + cfg.shape_prior_weight * shape_prior(v.betas)
        loss = loss + cfg.bend_weight * bend_limit_penalty(v.pose)
        if cfg.world_weight > 0:
            loss = loss + cfg.world_weight * bone_direction_loss(kp3d, target_dirs, dir_weights)
    return loss


def _world_stage_loss(v: _Vars, km: KeypointModel, target_dirs, dir_weights, prior, cfg: FitConfig) -> torch.Tensor:
    """(B,) the world stage's loss: the world landmarks' bone directions and the pose terms,
    no keypoints (zero, so no step, for a person without world landmarks)."""
    kp3d, _ = km(v.matrices(), v.betas)
    return (cfg.world_init_weight * bone_direction_loss(kp3d, target_dirs, dir_weights)
            + cfg.pose_prior_weight * prior.nll(v.pose) + cfg.bend_weight * bend_limit_penalty(v.pose))
