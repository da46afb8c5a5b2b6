"""The denoiser: a transformer over the per-joint tokens of the diffused vector.

The normalised vector x_t (D = 157) is split into 26 tokens: 24 joint rotations (6D),
one shape token (10 betas), one camera token (s, tx, ty). Each block does self-attention
among those tokens, cross-attention to the image and keypoint tokens of the condition,
and an MLP; the timestep (sinusoidal embedding + MLP) plus the pooled image feature
modulate the blocks by adaptive LayerNorm with zero-initialised gates (DiT's adaLN-Zero).

The network outputs v = sqrt(ᾱ) ε - sqrt(1 - ᾱ) x0 (Salimans & Ho 2022) per token: the
clean estimate x0 = sqrt(ᾱ) x_t - sqrt(1 - ᾱ) v is then well conditioned at t ≈ T, where
an ε-prediction would be amplified ~157x, and ε = sqrt(1 - ᾱ) x_t + sqrt(ᾱ) v stays exact
for the ε-based sampler and for Diffusion-DPO.

Hypotheses share their person's condition: ``forward`` accepts a condition whose batch B
divides the batch N of x_t, the N / B consecutive rows of a person attending to the same
image tokens, so the image tokens are never copied M times.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import ShapeError
from engine.models.encoder import Condition
from engine.models.param_layout import ParamLayout


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps: t (N,) -> (N, dim) float32."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([args.cos(), args.sin()], dim=-1)
    return F.pad(emb, (0, dim - 2 * half))


class TanhGELU(nn.Module):
    """GELU with the tanh approximation, written as x * sigmoid(2 z), which equals
    0.5 x (1 + tanh z): PyTorch's own tanh GELU is about three times slower on CPU, and the
    denoiser's MLPs run at every DDIM step for every candidate."""

    SCALE = 2.0 * math.sqrt(2.0 / math.pi)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inner = torch.addcmul(x, x * x, x, value=0.044715)
        return x * torch.sigmoid(inner.mul_(self.SCALE))


class Attention(nn.Module):
    """Multi-head attention; keys and values may come from a shorter, shared batch."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads:
            raise ShapeError(f"denoiser: width {width} is not divisible by {heads} heads")
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """x: (N, L, C) queries; context: (B, T, C) with N = g B, rows grouped by person.

        The g query sets of a person are stacked into one sequence of g L queries over the
        person's T keys: attention of each query is independent of the others, so this is
        exact and avoids repeating keys and values g times.
        """
        N, L, C = x.shape
        B, T, _ = context.shape
        g = N // B
        h, d = self.heads, C // self.heads
        q = self.q(x).reshape(B, g * L, h, d).transpose(1, 2)
        k, v = self.kv(context).reshape(B, T, 2, h, d).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v)
        return self.out(o.transpose(1, 2).reshape(N, L, C))


class Block(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
        self.self_attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.cross_attn = Attention(width, heads)
        self.norm3 = nn.LayerNorm(width, elementwise_affine=False)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), TanhGELU(), nn.Linear(hidden, width))
        self.modulation = nn.Linear(width, 6 * width)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """x: (N, L, C) tokens; c: (N, C) conditioning vector; context: (B, T, C)."""
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(F.silu(c))[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + scale1) + shift1
        x = x + gate1 * self.self_attn(h, h)
        x = x + self.cross_attn(self.norm2(x), context)
        h = self.norm3(x) * (1 + scale2) + shift2
        return x + gate2 * self.mlp(h)


class Denoiser(nn.Module):
    """(x_t (N, D) normalised, t (N,) long, Condition of batch B | N) -> v (N, D).

    width, layers, heads, mlp_ratio: transformer size (CPU default 128, 4, 4, 2).
    """

    def __init__(self, layout: ParamLayout, width: int = 128, layers: int = 4, heads: int = 4, mlp_ratio: float = 2.0):
        super().__init__()
        self.layout = layout
        self.width = width
        J = layout.num_joints
        self.rot_in = nn.Linear(layout.rot_dim, width)
        self.betas_in = nn.Linear(layout.num_betas, width)
        self.cam_in = nn.Linear(layout.cam_dim, width)
        self.token_pos = nn.Parameter(torch.randn(J + 2, width) * 0.02)
        self.time_mlp = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.pooled_in = nn.Linear(width, width)
        self.blocks = nn.ModuleList(Block(width, heads, mlp_ratio) for _ in range(layers))
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False)
        self.final_modulation = nn.Linear(width, 2 * width)
        self.rot_out = nn.Linear(width, layout.rot_dim)
        self.betas_out = nn.Linear(width, layout.num_betas)
        self.cam_out = nn.Linear(width, layout.cam_dim)
        for lin in (self.final_modulation, self.rot_out, self.betas_out, self.cam_out):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: Condition) -> torch.Tensor:
        N = x_t.shape[0]
        if x_t.ndim != 2 or x_t.shape[1] != self.layout.dim:
            raise ShapeError(f"denoiser: x_t must be (N, {self.layout.dim}), got {tuple(x_t.shape)}")
        if t.shape != (N,):
            raise ShapeError(f"denoiser: t must be ({N},), got {tuple(t.shape)}")
        if cond.batch < 1 or N % cond.batch:
            raise ShapeError(f"denoiser: condition batch {cond.batch} does not divide x_t batch {N}")
        g = N // cond.batch
        rot, betas, cam = self.layout.split(x_t)
        tokens = torch.cat([self.rot_in(rot), self.betas_in(betas)[:, None], self.cam_in(cam)[:, None]], dim=1)
        tokens = tokens + self.token_pos
        pooled = self.pooled_in(cond.pooled)
        if g > 1:
            pooled = pooled.repeat_interleave(g, 0)
        c = self.time_mlp(timestep_embedding(t, self.width).to(tokens.dtype)) + pooled
        for block in self.blocks:
            tokens = block(tokens, c, cond.tokens)
        shift, scale = self.final_modulation(F.silu(c))[:, None].chunk(2, dim=-1)
        h = self.final_norm(tokens) * (1 + scale) + shift
        J = self.layout.num_joints
        return self.layout.join(self.rot_out(h[:, :J]), self.betas_out(h[:, J]), self.cam_out(h[:, J + 1]))
