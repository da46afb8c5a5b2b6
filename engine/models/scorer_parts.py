"""Building blocks of the HMR-Scorer: image encoder, joint sampling, joint inputs.

Coordinates: a candidate's joints are projected with its weak-perspective camera to
normalised crop coordinates, -1 at the left/top edge of the crop and +1 at the
right/bottom edge (``engine.body.projection``). That is exactly the convention of
``torch.nn.functional.grid_sample`` with ``align_corners=False``: on a feature map of
width W, cell k covers crop coordinates [2k/W - 1, 2(k+1)/W - 1] and its centre is
(2k + 1)/W - 1, whatever the map's stride, so one set of coordinates samples every map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import ShapeError

NUM_SMPL_JOINTS = 24
NUM_COCO = 17
NUM_SCORER_JOINTS = NUM_SMPL_JOINTS + NUM_COCO
"""Tokens per candidate: the 24 SMPL joints, then the 17 COCO keypoints."""

COORD_LIMIT = 2.0
"""Projected coordinates and depths are clamped to +-this before embedding, so a wild
candidate far outside the crop cannot blow up the token values."""


def sample_local_features(feature_map: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinearly sample a feature map at crop coordinates.

    Args:
        feature_map: (N, C, H, W) features covering the whole crop.
        points: (N, P, 2) normalised crop coordinates (x, y) in [-1, 1]; points outside
            the crop read zeros.

    Returns:
        (N, P, C) features.
    """
    if feature_map.ndim != 4 or points.ndim != 3 or points.shape[-1] != 2 or points.shape[0] != feature_map.shape[0]:
        raise ShapeError(
            f"sample_local_features: feature map {tuple(feature_map.shape)} and points "
            f"{tuple(points.shape)} must be (N, C, H, W) and (N, P, 2)"
        )
    grid = points.to(feature_map.dtype)[:, :, None, :]  # (N, P, 1, 2)
    out = F.grid_sample(feature_map, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[..., 0].transpose(1, 2)


def resize_crops(images: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 3, S, S) crops resampled to (N, 3, size, size); the same region of the image,
    so normalised crop coordinates stay valid."""
    if images.shape[-1] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def joint_inputs(
    joints: torch.Tensor,
    keypoints3d: torch.Tensor,
    joints_2d: torch.Tensor,
    keypoints_2d: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """What the scorer reads from a posed candidate.

    Args:
        joints: (..., 24, 3) SMPL joints, metres, camera-oriented (z forward).
        keypoints3d: (..., 17, 3) COCO-17 keypoints, metres.
        joints_2d: (..., 24, 2) and keypoints_2d: (..., 17, 2) normalised crop coordinates.

    Returns:
        crop: (..., 41, 2) projected joints then keypoints, normalised crop coordinates.
        depth: (..., 41) z relative to the pelvis (joint 0), metres.
    """
    if joints.shape[-2:] != (NUM_SMPL_JOINTS, 3) or keypoints3d.shape[-2:] != (NUM_COCO, 3):
        raise ShapeError(
            f"joint_inputs: joints {tuple(joints.shape)} / keypoints {tuple(keypoints3d.shape)} "
            "must end in (24, 3) / (17, 3)"
        )
    crop = torch.cat([joints_2d, keypoints_2d], dim=-2)
    z = torch.cat([joints[..., 2], keypoints3d[..., 2]], dim=-1)
    return crop, z - joints[..., :1, 2]


def _conv(cin: int, cout: int, stride: int) -> nn.Sequential:
    """3x3 conv, or a 4x4 stride-2 conv whose output cell k is centred on input pixels
    2k and 2k + 1, so a stride-s map's cell k is centred where ``grid_sample`` puts it,
    at input pixel s k + (s - 1) / 2 (a 3x3 stride-2 conv would centre it at s k)."""
    groups = 8 if cout % 8 == 0 else 1
    kernel = 4 if stride == 2 else 3
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=1, bias=False),
        nn.GroupNorm(groups, cout),
        nn.GELU(),
    )


class ImageEncoder(nn.Module):
    """A compact CNN trained from scratch (no pretrained weights).

    Four stride-2 stages (strides 2, 4, 8, 16). The local map is stride 4, enriched with
    the upsampled stride-16 features so each location also sees its surroundings; the
    global map is the stride-16 features pooled to ``grid`` x ``grid`` tokens.

    Args:
        width: channels of both outputs (the transformer width).
        grid: side of the global token grid.
    """

    def __init__(self, width: int, grid: int = 8):
        super().__init__()
        c1, c2, c3 = max(width // 4, 8), max(width // 2, 16), width
        self.grid = grid
        self.stage1 = nn.Sequential(_conv(3, c1, 2), _conv(c1, c1, 1))
        self.stage2 = nn.Sequential(_conv(c1, c2, 2), _conv(c2, c2, 1))
        self.stage3 = nn.Sequential(_conv(c2, c3, 2), _conv(c3, c3, 1))
        self.stage4 = nn.Sequential(_conv(c3, width, 2), _conv(width, width, 1))
        self.local_proj = nn.Conv2d(c2, width, 1)
        self.context_proj = nn.Conv2d(width, width, 1)
        self.local_out = _conv(width, width, 1)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images: (N, 3, S, S) normalised crops ->
        local map (N, width, S/4, S/4), global tokens (N, grid*grid, width)."""
        x2 = self.stage2(self.stage1(images))
        x4 = self.stage4(self.stage3(x2))
        context = F.interpolate(self.context_proj(x4), size=x2.shape[-2:], mode="bilinear", align_corners=False)
        local = self.local_out(self.local_proj(x2) + context)
        tokens = F.adaptive_avg_pool2d(x4, self.grid).flatten(2).transpose(1, 2)
        return local, tokens


class JointEmbedding(nn.Module):
    """Per-joint token: sampled local feature + geometry + joint identity.

    Geometry is (u, v, depth) and, for the 17 COCO tokens, the agreement with the
    detected keypoint (conf * (u - u_det), conf * (v - v_det), conf); SMPL joints have
    no detection and get zeros there. The agreement is a strong cue: a candidate whose
    wrists land far from the detected wrists is probably wrong.
    """

    def __init__(self, width: int):
        super().__init__()
        self.local = nn.Linear(width, width)
        self.geometry = nn.Sequential(nn.Linear(6, width), nn.GELU(), nn.Linear(width, width))
        self.joint_id = nn.Parameter(torch.randn(NUM_SCORER_JOINTS, width) * 0.02)
        self.norm = nn.LayerNorm(width)

    def forward(
        self, local: torch.Tensor, crop: torch.Tensor, depth: torch.Tensor, detected: torch.Tensor
    ) -> torch.Tensor:
        """local: (B, 41, width) sampled features; crop: (B, 41, 2); depth: (B, 41);
        detected: (B, 17, 3) detected keypoints, crop coords + confidence -> (B, 41, width)."""
        conf = detected[..., 2:]
        agree = torch.cat([(crop[:, NUM_SMPL_JOINTS:] - detected[..., :2]) * conf, conf], dim=-1)
        agree = torch.cat([agree.new_zeros(agree.shape[0], NUM_SMPL_JOINTS, 3), agree], dim=1)
        geo = torch.cat([crop, depth[..., None], agree], dim=-1).clamp(-COORD_LIMIT, COORD_LIMIT)
        return self.norm(self.local(local) + self.geometry(geo) + self.joint_id)
