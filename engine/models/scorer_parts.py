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

from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
from engine.errors import ShapeError
from engine.data.limb_joints import EVAL12_FROM_BLAZEPOSE33, EVAL12_FROM_COCO17, EVAL12_FROM_SMPL24, HIPS

NUM_SMPL_JOINTS = 24
NUM_COCO = 17
NUM_SCORER_JOINTS = NUM_SMPL_JOINTS + NUM_COCO
"""Tokens per candidate: the 24 SMPL joints, then the 17 COCO keypoints."""

COORD_LIMIT = 2.0
"""Projected coordinates and depths are clamped to +-this before embedding, so a wild
candidate far outside the crop cannot blow up the token values."""

AGREEMENT_DIM = 4
"""Per joint token of a detector-conditioned scorer: the candidate's hip-centred 3D joint
minus the detector's world landmark (x, y, z metres), and whether the detector found the
person (1) or not (0, the whole row 0)."""

# Token index (SMPL joints then COCO keypoints) and BlazePose landmark of each joint
# that both have: shoulders, elbows, wrists, hips, knees, ankles, for both joint sets.
_AGREE_TOKENS = (tuple(EVAL12_FROM_SMPL24), tuple(NUM_SMPL_JOINTS + i for i in EVAL12_FROM_COCO17))
_AGREE_LANDMARKS = tuple(EVAL12_FROM_BLAZEPOSE33)


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


def landmark_agreement(points3d: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
    """How far each candidate's 3D joints are from the detector's world landmarks.

    Args:
        points3d: (N, M, 41, 3) each candidate's SMPL joints then COCO keypoints, metres,
            camera-oriented (x right, y down, z forward); any translation.
        landmarks: (N, 33, 6) the detector's tokens (``engine.data.landmark_tokens``):
            world landmarks, hip-midpoint-centred, camera axes, metres.

    Returns:
        (N, M, 41, AGREEMENT_DIM): for the 12 limb joints of each joint set (shoulders ...
        ankles), the joint minus its landmark, both centred on their own hip midpoint, and
        the found flag; zeros for the other tokens and where the detector found nobody.
        SMPL's hips sit a few cm from BlazePose's, an offset the scorer learns.
    """
    N, M = points3d.shape[:2]
    if tuple(points3d.shape[2:]) != (NUM_SCORER_JOINTS, 3) or tuple(landmarks.shape) != (N, NUM_LANDMARKS, TOKEN_DIM):
        raise ShapeError(
            f"landmark_agreement: points {tuple(points3d.shape)} and landmarks {tuple(landmarks.shape)} "
            f"must be (N, M, 41, 3) and (N, {NUM_LANDMARKS}, {TOKEN_DIM})"
        )
    lm = landmarks[:, None, list(_AGREE_LANDMARKS)]  # (N, 1, 12, 6)
    found = lm[..., 5:6]
    # BlazePose puts its origin at the hip midpoint already; centring again costs nothing
    # and keeps the comparison exact whatever the detector's own centre.
    world = lm[..., :3] - lm[..., list(HIPS), :3].mean(dim=2, keepdim=True)
    out = points3d.new_zeros(N, M, NUM_SCORER_JOINTS, AGREEMENT_DIM)
    for tokens in _AGREE_TOKENS:
        pts = points3d[:, :, list(tokens)]
        pts = pts - pts[:, :, list(HIPS)].mean(dim=2, keepdim=True)
        out[:, :, list(tokens)] = torch.cat([(pts - world) * found, found.expand(N, M, -1, 1)], dim=-1)
    return out


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

    def __init__(self, width: int, agreement: bool = False):
        super().__init__()
        self.local = nn.Linear(width, width)
        inputs = 6 + (AGREEMENT_DIM if agreement else 0)
        self.geometry = nn.Sequential(nn.Linear(inputs, width), nn.GELU(), nn.Linear(width, width))
        self.joint_id = nn.Parameter(torch.randn(NUM_SCORER_JOINTS, width) * 0.02)
        self.norm = nn.LayerNorm(width)

    def forward(
        self, local: torch.Tensor, crop: torch.Tensor, depth: torch.Tensor, detected: torch.Tensor,
        agreement_3d: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """local: (B, 41, width) sampled features; crop: (B, 41, 2); depth: (B, 41);
        detected: (B, 17, 3) detected keypoints, crop coords + confidence; agreement_3d:
        (B, 41, AGREEMENT_DIM) (``landmark_agreement``), only for an embedding made with
        ``agreement`` -> (B, 41, width)."""
        conf = detected[..., 2:]
        agree = torch.cat([(crop[:, NUM_SMPL_JOINTS:] - detected[..., :2]) * conf, conf], dim=-1)
        agree = torch.cat([agree.new_zeros(agree.shape[0], NUM_SMPL_JOINTS, 3), agree], dim=1)
        parts = [crop, depth[..., None], agree] + ([] if agreement_3d is None else [agreement_3d])
        geo = torch.cat(parts, dim=-1).clamp(-COORD_LIMIT, COORD_LIMIT)
        return self.norm(self.local(local) + self.geometry(geo) + self.joint_id)


class CrossAttentionBlock(nn.Module):
    """A pre-norm transformer layer for the candidates' tokens: self-attention among one
    candidate's tokens, cross-attention to its image's context tokens, then an MLP.

    Cross-attention treats each query on its own, so the tokens of all M candidates of an
    image are one query sequence against that image's context: its keys and values are
    projected once per image, not once per candidate.
    """

    def __init__(self, width: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.self_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.norm_context = nn.LayerNorm(width)
        self.cross_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm3 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width * mlp_ratio), nn.GELU(), nn.Linear(width * mlp_ratio, width))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """x: (N * m, T, width) candidate tokens, image-major (image n's m candidates are
        rows n*m ... n*m + m - 1); context: (N, L, width) -> (N * m, T, width)."""
        B, T, W = x.shape
        N = context.shape[0]
        h = self.norm1(x)
        x = x + self.self_attn(h, h, h, need_weights=False)[0]
        q = self.norm2(x).reshape(N, (B // N) * T, W)
        c = self.norm_context(context)
        x = x + self.cross_attn(q, c, c, need_weights=False)[0].reshape(B, T, W)
        return x + self.mlp(self.norm3(x))

    def zero_residuals(self) -> None:
        """Make the block the identity (every residual branch outputs 0), so a scorer
        grown by this block first ranks exactly as before."""
        with torch.no_grad():
            linears = [self.self_attn.out_proj, self.cross_attn.out_proj, self.mlp[-1]]
            for linear in linears:
                assert isinstance(linear, nn.Linear)
                linear.weight.zero_()
                linear.bias.zero_()
