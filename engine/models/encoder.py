"""The condition of the diffusion model: image tokens from a compact CNN, keypoint tokens.

No pretrained weights: a stem and four residual stages (GroupNorm, SiLU) turn a square
crop (3, S, S) into a (S/16, S/16) feature map, one token per cell with a fixed 2D sin-cos
position embedding. Each COCO-17 keypoint, in normalised crop coordinates with a
confidence, becomes one more token; a keypoint with confidence 0 (not seen, not detected)
gets a learned 'missing' embedding instead of its coordinates. A detector-conditioned
model adds one token per BlazePose world landmark (``LandmarkEncoder``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from engine.errors import ShapeError
from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM

NUM_KEYPOINTS = 17
STRIDE = 16


@dataclass(frozen=True, eq=False)
class Condition:
    """What the denoiser attends to, for a batch of person crops.

    tokens: (B, T, C) image tokens then keypoint tokens.
    pooled: (B, C) a global summary of the crop, added to the timestep embedding.
    """

    tokens: torch.Tensor
    pooled: torch.Tensor

    @property
    def batch(self) -> int:
        return self.tokens.shape[0]

    def repeat_interleave(self, repeats: int) -> "Condition":
        """Each person repeated ``repeats`` times in a row: (B, ...) -> (B * repeats, ...)."""
        return Condition(self.tokens.repeat_interleave(repeats, 0), self.pooled.repeat_interleave(repeats, 0))

    def index_select(self, index: torch.Tensor) -> "Condition":
        """Rows ``index``: (K,) long -> a Condition of batch K."""
        index = index.to(self.tokens.device)
        return Condition(self.tokens.index_select(0, index), self.pooled.index_select(0, index))

    def to(self, device: torch.device | str) -> "Condition":
        return Condition(self.tokens.to(device), self.pooled.to(device))


def _groups(channels: int) -> int:
    for g in (8, 4, 2, 1):
        if channels % g == 0:
            return g
    return 1


class ResBlock(nn.Module):
    """Pre-activation residual block: GN-SiLU-conv3x3 twice, optional stride on the first."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm2 = nn.GroupNorm(_groups(c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.act = nn.SiLU()
        self.skip = None
        if stride != 1 or c_in != c_out:
            self.skip = nn.Conv2d(c_in, c_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = self.conv2(self.act(self.norm2(h)))
        return h + (x if self.skip is None else self.skip(x))


def sincos_2d(height: int, width: int, dim: int, device: torch.device | None = None) -> torch.Tensor:
    """Fixed 2D sin-cos position embedding: (height * width, dim), row-major cells."""
    if dim % 4:
        raise ShapeError(f"sin-cos position embedding: width {dim} must be a multiple of 4")
    quarter = dim // 4
    freq = 1.0 / (10000 ** (torch.arange(quarter, dtype=torch.float32, device=device) / quarter))
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=torch.float32, device=device),
        torch.arange(width, dtype=torch.float32, device=device),
        indexing="ij",
    )
    ay = ys.reshape(-1, 1) * freq
    ax = xs.reshape(-1, 1) * freq
    return torch.cat([ax.sin(), ax.cos(), ay.sin(), ay.cos()], dim=1)


class ImageEncoder(nn.Module):
    """(B, 3, S, S) normalised crop -> (B, (S/16)^2, width) tokens.

    The stem halves the resolution twice (S/4); the four stages keep, halve, halve and
    keep it, so the map is S/16 on a side (8 x 8 tokens for S = 128).
    """

    def __init__(self, width: int, channels: tuple[int, ...] = (32, 64, 128, 128)):
        super().__init__()
        c0 = channels[0]
        c_stem = max(c0 // 2, 8)
        self.stem = nn.Sequential(
            nn.Conv2d(3, c_stem, 3, 2, 1, bias=False),
            nn.GroupNorm(_groups(c_stem), c_stem),
            nn.SiLU(),
            nn.Conv2d(c_stem, c0, 3, 2, 1, bias=False),
        )
        strides = (1, 2, 2, 1)
        stages, c_prev = [], c0
        for c, s in zip(channels, strides):
            stages.append(ResBlock(c_prev, c, s))
            c_prev = c
        self.stages = nn.Sequential(*stages)
        self.out_norm = nn.GroupNorm(_groups(c_prev), c_prev)
        self.proj = nn.Conv2d(c_prev, width, 1)
        self.width = width

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(images))
        h = self.proj(torch.nn.functional.silu(self.out_norm(h)))
        B, C, H, W = h.shape
        tokens = h.flatten(2).transpose(1, 2)
        return tokens + sincos_2d(H, W, C, h.device).to(tokens.dtype)


class KeypointEncoder(nn.Module):
    """(B, 17, 3) keypoints (x, y normalised crop coords, confidence) -> (B, 17, width).

    Coordinates pass through Fourier features so the tokens resolve small offsets.
    """

    freqs: torch.Tensor  # a buffer

    def __init__(self, width: int, num_freqs: int = 6):
        super().__init__()
        self.register_buffer("freqs", (2.0 ** torch.arange(num_freqs, dtype=torch.float32)) * math.pi, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(4 * num_freqs + 3, width), nn.SiLU(), nn.Linear(width, width))
        self.missing = nn.Parameter(torch.zeros(width))
        self.joint = nn.Parameter(torch.randn(NUM_KEYPOINTS, width) * 0.02)

    def forward(self, keypoints: torch.Tensor) -> torch.Tensor:
        xy, conf = keypoints[..., :2], keypoints[..., 2:3]
        ang = xy[..., None] * self.freqs
        feats = torch.cat([xy, conf, ang.sin().flatten(-2), ang.cos().flatten(-2)], dim=-1)
        seen = conf > 0
        # Missing points may carry garbage coordinates (NaN-free by contract): zero them first.
        tok = self.mlp(torch.where(seen, feats, torch.zeros_like(feats)))
        tok = torch.where(seen, tok, self.missing.to(tok.dtype).expand_as(tok))
        return tok + self.joint.to(tok.dtype)


class LandmarkEncoder(nn.Module):
    """(B, 33, 6) detector landmarks (``engine.data.landmark_tokens``) -> (B, 33, width).

    World positions pass through Fourier features (metres; the lowest frequency spans a
    body); a person the detector did not find gets the learned 'missing' embedding on
    every landmark, its identity embedding still telling which landmark it stands for.
    """

    freqs: torch.Tensor  # a buffer

    def __init__(self, width: int, num_freqs: int = 6):
        super().__init__()
        self.register_buffer("freqs", (2.0 ** torch.arange(num_freqs, dtype=torch.float32)) * (math.pi / 2),
                             persistent=False)
        self.mlp = nn.Sequential(nn.Linear(6 * num_freqs + 5, width), nn.SiLU(), nn.Linear(width, width))
        self.missing = nn.Parameter(torch.zeros(width))
        self.landmark = nn.Parameter(torch.randn(NUM_LANDMARKS, width) * 0.02)

    def forward(self, landmarks: torch.Tensor) -> torch.Tensor:
        xyz, probs, found = landmarks[..., :3], landmarks[..., 3:5], landmarks[..., 5:6]
        ang = xyz[..., None] * self.freqs
        feats = torch.cat([xyz, probs, ang.sin().flatten(-2), ang.cos().flatten(-2)], dim=-1)
        seen = found > 0
        tok = self.mlp(torch.where(seen, feats, torch.zeros_like(feats)))
        tok = torch.where(seen, tok, self.missing.to(tok.dtype).expand_as(tok))
        return tok + self.landmark.to(tok.dtype)


class ConditionEncoder(nn.Module):
    """Images, keypoints and (for a detector-conditioned model) landmarks -> :class:`Condition`."""

    def __init__(self, width: int, channels: tuple[int, ...] = (32, 64, 128, 128), landmarks: bool = False):
        super().__init__()
        self.image = ImageEncoder(width, channels)
        self.keypoints = KeypointEncoder(width)
        self.landmarks = LandmarkEncoder(width) if landmarks else None
        self.token_norm = nn.LayerNorm(width)
        self.pool_norm = nn.LayerNorm(width)

    def forward(self, images: torch.Tensor, keypoints: torch.Tensor, landmarks: torch.Tensor | None = None) -> Condition:
        img = self.image(images)
        kp = self.keypoints(keypoints.to(img.dtype))
        parts, pooled = [img, kp], img.mean(1) + kp.mean(1)
        if self.landmarks is not None:
            if landmarks is None:
                landmarks = torch.zeros(img.shape[0], NUM_LANDMARKS, TOKEN_DIM, device=img.device)
            lm = self.landmarks(landmarks.to(img.dtype))
            parts.append(lm)
            pooled = pooled + lm.mean(1)
        tokens = self.token_norm(torch.cat(parts, dim=1))
        return Condition(tokens=tokens, pooled=self.pool_norm(pooled))
