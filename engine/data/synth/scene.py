"""One sample's scene: shape, pose, global orientation, camera, placement and light.

Camera frame as in ``engine.body.projection`` (OpenCV: x right, y down, z forward,
metres). The global orientation stored in a label is camera-oriented: it composes the
body's own tilt (from the pose prior), its yaw and tilt in the world (Y up), and the
camera's elevation and roll, so that ``f * (X + t)_xy / (X + t)_z + principal`` of the
posed body ``X`` gives the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from engine.data.synth.domains import DomainConfig
from engine.data.synth.pose_prior import sample_pose


@dataclass(frozen=True)
class Scene:
    """Everything sampled for one image before the body is posed.

    pose: (72,) float32 axis-angle radians, camera-oriented global orientation first.
    betas: (10,) float32.
    focal: pixels. principal: (2,) pixels.
    fill: projected body extent as a share of the image side.
    target: (2,) pixels where the centre of the body's box should land.
    keep_inside: push the camera back until the whole body is in the image.
    light_dir: (3,) unit vector toward the light, camera frame. light_color: (3,).
    ambient: ambient term.
    """

    pose: np.ndarray
    betas: np.ndarray
    focal: float
    principal: np.ndarray
    fill: float
    target: np.ndarray
    keep_inside: bool
    light_dir: np.ndarray
    light_color: np.ndarray
    ambient: float


def _rot(axis: str, deg: float) -> Rotation:
    return Rotation.from_euler(axis, deg, degrees=True)


def global_orientation(root_tilt: np.ndarray, yaw: float, pitch: float, roll: float, elevation: float,
                       camera_roll: float) -> np.ndarray:
    """(3,) camera-oriented global orientation, axis-angle radians.

    root_tilt: (3,) the pose prior's body tilt, axis-angle in the body frame.
    yaw, pitch, roll: the body in the world (Y up), degrees; yaw 0 faces the camera.
    elevation: camera looking down at the body, degrees. camera_roll: degrees.
    """
    body = _rot("y", yaw) * _rot("z", roll) * _rot("x", pitch) * Rotation.from_rotvec(root_tilt)
    camera = _rot("z", camera_roll) * _rot("x", elevation) * _rot("x", 180.0)
    return (camera * body).as_rotvec()


def _target(rng: np.random.Generator, cfg: DomainConfig, size: int, fill: float) -> np.ndarray:
    centre = np.full(2, (size - 1) / 2.0) + rng.uniform(-1, 1, size=2) * cfg.centre_jitter * size
    if rng.random() < cfg.truncation_prob:
        q = rng.uniform(*cfg.truncation)
        reach = (0.5 - q) * fill * size
        side = rng.choice(4, p=[0.5, 0.15, 0.175, 0.175])  # bottom, top, left, right
        axis = 1 if side < 2 else 0
        centre[axis] = size - reach if side in (0, 3) else reach
    return centre


def _light(rng: np.random.Generator, cfg: DomainConfig) -> tuple[np.ndarray, np.ndarray, float]:
    theta = np.radians(cfg.light_cone_deg) * np.sqrt(rng.random())
    phi = rng.uniform(0, 2 * np.pi)
    d = np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), -np.cos(theta)])
    if cfg.light_cone_deg <= 60:
        d[1] = -abs(d[1])  # studio lights hang above the subject
    strength = rng.uniform(*cfg.light)
    color = np.clip(strength * (1.0 + cfg.light_tint * rng.normal(size=3)), 0.05, None)
    return d / np.linalg.norm(d), color.astype(np.float32), float(rng.uniform(*cfg.ambient))


def sample_scene(rng: np.random.Generator, cfg: DomainConfig, size: int) -> Scene:
    """Draw one scene of domain ``cfg`` for a ``size`` x ``size`` image."""
    betas = np.clip(rng.normal(size=10) * cfg.betas_sigma, -cfg.betas_clip, cfg.betas_clip)
    body_pose = sample_pose(rng, cfg.pose)
    yaw = rng.uniform(-cfg.yaw_deg, cfg.yaw_deg)
    pitch, roll = rng.normal(size=2) * cfg.tilt_sigma_deg
    elevation = rng.uniform(*cfg.elevation_deg)
    camera_roll = rng.normal() * cfg.roll_sigma_deg
    pose = body_pose.copy()
    pose[0] = global_orientation(body_pose[0], yaw, pitch, roll, elevation, camera_roll)
    focal = rng.uniform(*cfg.focal_256) * size / 256.0
    principal = (size - 1) / 2.0 + rng.normal(size=2) * 0.01 * size
    fill = rng.uniform(*cfg.fill)
    light_dir, light_color, ambient = _light(rng, cfg)
    return Scene(
        pose=pose.reshape(72).astype(np.float32),
        betas=betas.astype(np.float32),
        focal=float(focal),
        principal=principal.astype(np.float32),
        fill=float(fill),
        target=_target(rng, cfg, size, fill),
        keep_inside=cfg.truncation_prob == 0.0,
        light_dir=light_dir.astype(np.float32),
        light_color=light_color,
        ambient=ambient,
    )


def project(points: np.ndarray, cam_t: np.ndarray, focal: float, principal: np.ndarray) -> np.ndarray:
    """(N, 3) camera-oriented points + translation to (N, 3): pixel x, y and depth z (metres)."""
    p = np.asarray(points, np.float64) + cam_t
    z = np.maximum(p[:, 2], 1e-3)
    return np.stack([focal * p[:, 0] / z + principal[0], focal * p[:, 1] / z + principal[1], p[:, 2]], axis=1)


def place_body(vertices: np.ndarray, scene: Scene, size: int, margin: float = 0.03) -> np.ndarray:
    """Camera translation (3,) metres that puts the posed body where the scene wants it.

    The body's larger x/y extent projects to ``scene.fill`` of the image side with the
    centre of its box at ``scene.target``; with ``keep_inside`` the camera backs away
    until every vertex lies inside the image, ``margin`` of the side from the border.
    """
    v = np.asarray(vertices, np.float64)
    lo, hi = v.min(axis=0), v.max(axis=0)
    mid = (lo + hi) / 2
    extent = max(hi[0] - lo[0], hi[1] - lo[1], 1e-3)
    depth = np.clip(scene.focal * extent / (scene.fill * size), 1.2, 40.0)
    target = np.asarray(scene.target, np.float64)
    lo_px, hi_px = size * margin, size * (1 - margin)
    # Every fourth vertex bounds the projection to within a pixel or two; the margin covers it.
    probe = v[::4]
    for _ in range(6):
        xy = (target - scene.principal) * depth / scene.focal - mid[:2]
        t = np.array([xy[0], xy[1], depth - mid[2]])
        if not scene.keep_inside:
            return t
        uv = project(probe, t, scene.focal, scene.principal)[:, :2]
        box_lo, box_hi = uv.min(axis=0), uv.max(axis=0)
        grow = (box_hi - box_lo).max() / (hi_px - lo_px)
        if grow > 1.0:
            depth *= grow * 1.02
            continue
        shift = np.maximum(lo_px - box_lo, 0) - np.maximum(box_hi - hi_px, 0)
        if not shift.any():
            return t
        target = target + shift * 1.05
    return t
