"""Bodies with their exact keypoints, for the fit tests (and the project fit tests)."""

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from engine.data.synth.pose_prior import PoseSpread, sample_pose


def make_people(body, n: int, seed: int = 0, spread: PoseSpread = PoseSpread(noise_deg=5.0)):
    """n posed bodies facing the camera within 45 degrees: (pose (n, 72), betas (n, 10),
    cam (n, 3), their keypoints (n, 17, 3) in crop coordinates with confidence 1, and their
    COCO keypoints (n, 17, 3) metres)."""
    rng = np.random.default_rng(seed)
    poses = []
    for _ in range(n):
        p = sample_pose(rng, spread)
        yaw = rng.uniform(-45, 45)
        root = Rotation.from_euler("x", 180, degrees=True) * Rotation.from_euler("y", yaw, degrees=True)
        p[0] = (root * Rotation.from_rotvec(p[0])).as_rotvec()
        poses.append(p.reshape(72))
    pose = torch.tensor(np.array(poses), dtype=torch.float32)
    betas = torch.tensor(rng.normal(size=(n, 10)) * 0.5, dtype=torch.float32)
    cam = torch.tensor(np.c_[rng.uniform(0.8, 1.0, n), rng.normal(size=(n, 2)) * 0.05], dtype=torch.float32)
    with torch.no_grad():
        out = body(pose, betas, cam, rotation_format="axis_angle")
    kp = torch.cat([out.keypoints_2d, torch.ones(n, 17, 1)], dim=-1)
    return pose, betas, cam, kp, out.keypoints
