"""Guided sampling (ScoreHMR-style): pull each DDIM clean estimate towards the evidence.

At every DDIM step the sampler's clean estimate x0^ (normalised parameters) takes a few
gradient steps down a robust reprojection loss of its body's COCO-17 keypoints against
the detected ones, and the step's ε is re-derived from the moved x0^ (as ``x0_clip``
does), so the rest of the trajectory follows the evidence:

    x0^ <- x0^ - scale * d/dx0^ L(decode(x0^)),
    L = sum_k c_k^2 rho(|p_k - q_k|) / sum_k c_k^2,     rho = Geman–McClure with scale sigma,

p_k the body's projected keypoint, q_k the detected one and c_k its confidence, all in
normalised crop coordinates (1 = half a crop). Where the detector also gave its 3D world
landmarks, the loss adds ``world_weight`` times the visibility-weighted mean squared
difference of the 10 limb and girdle bone directions (``engine.body.bones.BONES``)
between the body's COCO-17 keypoints and the landmarks: the 2D keypoints alone cannot
tell how a body turns in depth, which the landmarks can (the fit's world stage uses the
same bones). ScoreHMR takes the gradient through the
denoiser with respect to x_t; taking it with respect to x0^ needs no backward pass
through the network, only through the body's 17 keypoints (a few skinned vertices); even
so, five body passes with gradients per DDIM step make a guided run of 100 candidates
about twelve times slower than an unguided one on a CPU (README, Guided sampling). Scale
0 is no guidance at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from engine.body.bones import bone_directions, bone_weights
from engine.body.model import BodyModel
from engine.detect.keypoints import BLAZEPOSE_TO_COCO17
from engine.errors import ShapeError
from engine.models.param_layout import ParamLayout
from engine.models.sample_settings import GUIDANCE_WORLD_WEIGHT

GUIDANCE_SIGMA = 100.0 / 112.0
"""Geman–McClure scale in normalised crop units: the fit's 100 px in a 224-px crop
(``engine.fitting.losses``), so the two robust terms agree on what an outlier is."""

GUIDANCE_ITERATIONS = 5
"""Gradient steps per DDIM step. On the example of tests/engine/models/test_guidance.py
(a body's keypoints moved a tenth of a crop; unguided 21.5 px off), one step per DDIM
step got at best to 18.0 px (scale 5; 10 overshoots, 19.8 px), five steps to 12.4 px."""


def gmof(residual: torch.Tensor, sigma: float) -> torch.Tensor:
    """Geman–McClure robust penalty, elementwise: sigma^2 r^2 / (sigma^2 + r^2)."""
    sq = residual.square()
    return sigma**2 * sq / (sigma**2 + sq)


@dataclass(frozen=True, eq=False)
class ReprojectionGuidance:
    """What pulls B persons' candidates towards their detected keypoints (and landmarks).

    body: the BodyModel that decodes candidates (its keypoints, not its mesh, are used).
    layout: the parameter vector's layout. keypoints: (B, 17, 3) detected normalised crop
    coordinates + confidence (0 = missing, which then pulls nothing). scale: step size on
    the normalised parameters (> 0). sigma: Geman–McClure scale, normalised crop units.
    iterations: gradient steps of that size per DDIM step. landmarks: (B, 33, 6) detector
    tokens (``engine.data.landmark_tokens``; a person whose "found" flag is 0 has none) or
    None. world_weight: the bone-direction term's weight (0 = reprojection only).
    Raises ShapeError for a scale that is not positive or inputs of another shape.
    """

    body: BodyModel
    layout: ParamLayout
    keypoints: torch.Tensor
    scale: float
    sigma: float = GUIDANCE_SIGMA
    iterations: int = GUIDANCE_ITERATIONS
    landmarks: torch.Tensor | None = None
    world_weight: float = GUIDANCE_WORLD_WEIGHT

    def __post_init__(self) -> None:
        if not float(self.scale) > 0.0:
            raise ShapeError(f"guidance scale must be > 0, got {self.scale}")
        if not float(self.world_weight) >= 0.0:
            raise ShapeError(f"guidance world weight must be >= 0, got {self.world_weight}")
        if self.keypoints.ndim != 3 or tuple(self.keypoints.shape[1:]) != (17, 3):
            raise ShapeError(f"guidance keypoints: expected (B, 17, 3), got {tuple(self.keypoints.shape)}")
        if self.landmarks is not None and tuple(self.landmarks.shape) != (len(self.keypoints), 33, 6):
            raise ShapeError(f"guidance landmarks: expected ({len(self.keypoints)}, 33, 6), "
                             f"got {tuple(self.landmarks.shape)}")

    @property
    def uses_world(self) -> bool:
        return self.landmarks is not None and float(self.world_weight) > 0.0

    def loss(self, params: torch.Tensor, persons: torch.Tensor) -> torch.Tensor:
        """params: (P, K, D) raw parameter vectors of persons ``persons`` (P,) long (indices
        into ``keypoints``), K candidates each. Returns (P, K) the robust reprojection loss."""
        P, K, D = params.shape
        dev = self.body.device
        rot, betas, cam = self.layout.split(params.reshape(P * K, D).to(dev, torch.float32))
        out = self.body(rot, betas, cam, return_vertices=False)
        projected = out.keypoints_2d.reshape(P, K, 17, 2)
        target = self.keypoints.index_select(0, persons.to(self.keypoints.device)).to(dev, torch.float32)[:, None]
        conf2 = target[..., 2].square()
        per_point = gmof((projected - target[..., :2]).norm(dim=-1), self.sigma) * conf2
        loss = per_point.sum(-1) / conf2.sum(-1).clamp(min=1e-6)
        if self.uses_world:
            loss = loss + float(self.world_weight) * self._bone_loss(out.keypoints.reshape(P, K, 17, 3), persons)
        return loss.to(params.device)

    def _bone_loss(self, points: torch.Tensor, persons: torch.Tensor) -> torch.Tensor:
        """(P, K) weighted mean squared bone-direction difference to the world landmarks.

        points: (P, K, 17, 3) the candidates' COCO-17 keypoints, metres, crop-camera axes.
        A bone counts with the lower landmark visibility of its two ends (0 for a person
        whose tokens say "not found").
        """
        assert self.landmarks is not None
        P, K = points.shape[:2]
        tokens = self.landmarks.index_select(0, persons.to(self.landmarks.device)).to(points.device, torch.float32)
        coco = tokens[:, list(BLAZEPOSE_TO_COCO17)]
        world = coco[..., :3]
        weights = bone_weights(coco[..., 3] * coco[..., 5])
        dirs = bone_directions(world)[:, None]
        ours = bone_directions(points.reshape(P * K, 17, 3)).reshape(P, K, -1, 3)
        per_bone = (ours - dirs).square().sum(-1) * weights[:, None]
        return per_bone.sum(-1) / weights.sum(-1).clamp(min=1e-6)[:, None]

    def step(
        self, x0: torch.Tensor, denormalize: Callable[[torch.Tensor], torch.Tensor],
        chunks: list[tuple[slice, torch.Tensor]],
    ) -> torch.Tensor:
        """One DDIM step's guidance (``iterations`` gradient steps) on normalised clean estimates.

        x0: (N, D) normalised, rows person-major. denormalize: normalised -> raw vectors.
        chunks: (row slice, person indices) covering the N rows in order, each slice's rows
        split evenly over its persons (``diffusion_hmr._row_chunks``). Returns (N, D) in
        x0's dtype. Runs in float32 with gradients on, whatever the caller's mode.
        """
        out = []
        with torch.enable_grad(), torch.autocast(x0.device.type, enabled=False):
            for rows, persons in chunks:
                z = x0[rows].detach().float()
                for _ in range(self.iterations):
                    z.requires_grad_(True)
                    raw = denormalize(z).reshape(len(persons), -1, z.shape[1])
                    (grad,) = torch.autograd.grad(self.loss(raw, persons).sum(), z)
                    z = (z - float(self.scale) * grad).detach()
                out.append(z)
        return torch.cat(out).to(x0.dtype)
