"""Starting points of the fit: the body's orientation.

Orientation: from the world landmarks' torso when a person has them (a full 3D frame),
else from the 2D torso: its up direction in the image and which way the person faces
(their left shoulder and hip on the image's right means facing the camera).
The camera that places the posed body on the keypoints is
``engine.body.camera_fit.fit_weak_perspective``.
"""

from __future__ import annotations

import torch

from engine.body.camera_fit import TORSO


def _mid(points: torch.Tensor, a: int, b: int) -> torch.Tensor:
    return (points[:, a] + points[:, b]) / 2


def orientation_from_world(world: torch.Tensor) -> torch.Tensor:
    """world: (B, 17, 3) COCO-17 points, metres, camera axes -> (B, 3, 3) root rotations.

    The body's rest frame is Y up, facing +Z, its left at +X; the columns of the result
    are where those axes point in the camera frame.
    """
    left = (world[:, 5] - world[:, 6]) + (world[:, 11] - world[:, 12])
    up = _mid(world, 5, 6) - _mid(world, 11, 12)
    return _frame(left, up)


def orientation_from_keypoints(keypoints: torch.Tensor) -> torch.Tensor:
    """keypoints: (B, 17, 3) normalised crop coordinates + confidence -> (B, 3, 3).

    Upright facing the camera (180 degrees about x) where the torso is not seen.
    """
    B = keypoints.shape[0]
    xy, conf = keypoints[..., :2], keypoints[..., 2]
    up = torch.zeros(B, 3, dtype=keypoints.dtype, device=keypoints.device)
    up[:, 1] = -1.0
    torso_seen = (conf[:, list(TORSO)] > 0).all(-1)
    up2d = _mid(xy, 5, 6) - _mid(xy, 11, 12)
    good = torso_seen & (up2d.norm(dim=-1) > 1e-3)
    up[good, :2] = torch.nn.functional.normalize(up2d[good], dim=-1)
    # The body's left, facing the camera: the image direction 90 degrees clockwise of up.
    left = torch.stack([-up[:, 1], up[:, 0], torch.zeros_like(up[:, 0])], dim=-1)
    lr = torch.zeros(B, 2, dtype=keypoints.dtype, device=keypoints.device)
    for a, b in ((5, 6), (11, 12)):
        both = ((conf[:, a] > 0) & (conf[:, b] > 0)).to(keypoints.dtype)[:, None]
        lr = lr + both * (xy[:, a] - xy[:, b])
    away = (lr * left[:, :2]).sum(-1) < 0
    left[away] = -left[away]
    return _frame(left, up)


def _frame(left: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    x = torch.nn.functional.normalize(left, dim=-1, eps=1e-8)
    y = torch.nn.functional.normalize(up - (up * x).sum(-1, keepdim=True) * x, dim=-1, eps=1e-8)
    z = torch.cross(x, y, dim=-1)
    return torch.stack([x, y, z], dim=-1)
