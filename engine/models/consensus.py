"""How far each candidate of a person sits from the others: the sample-consensus term.

A diffusion model's samples of one person scatter around what the image supports; a
sample that disagrees in body pose (after scale, rotation and translation are taken out,
as PA-MPJPE does) with most of its siblings is more often wrong. On held-out studio
images the mean PA distance of a sample to its siblings alone ranks the samples by their
true PA-MPJPE with a Spearman correlation of about 0.46, and it errs differently from the
HMR-Scorer's network, so the two combine (``HMRScorer.score_candidates``).

The term only compares candidates scored together (one sample run of one person); it is
centred per person, so it reorders a person's candidates without moving their average
score, and a lone candidate (a pseudo-label being cleaned) gets none.
"""

from __future__ import annotations

import torch

from engine.errors import ShapeError
from engine.metrics import pa_mpjpe

MAX_REFERENCES = 32
"""Siblings each candidate is compared with; larger sets use an evenly spaced subset so
the cost grows as M x 32, not M^2 (M = 100: 3200 Procrustes fits, 8 ms on two cores,
benchmarks/bench_sample.py)."""
MIN_CANDIDATES = 3
"""Below this a person's candidates get no consensus term (two disagree symmetrically)."""


def mean_sibling_distance(joints: torch.Tensor, max_references: int = MAX_REFERENCES) -> torch.Tensor:
    """Mean PA-MPJPE from each candidate to the other candidates of the same person.

    joints: (N, M, J, 3) float, metres; N people, M candidates each.
    Returns: (N, M) float32, mm. With M < 2 it is all zeros.
    """
    if joints.ndim != 4 or joints.shape[-1] != 3:
        raise ShapeError(f"consensus: joints have shape {tuple(joints.shape)}, expected (N, M, J, 3)")
    N, M, J, _ = joints.shape
    if M < 2:
        return torch.zeros(N, M, dtype=torch.float32, device=joints.device)
    joints = joints.float()
    refs = torch.linspace(0, M - 1, min(M, max_references), device=joints.device).round().long().unique()
    R = len(refs)
    pred = joints[:, :, None].expand(N, M, R, J, 3).reshape(-1, J, 3)
    ref = joints[:, refs][:, None].expand(N, M, R, J, 3).reshape(-1, J, 3)
    dist = pa_mpjpe(pred, ref).reshape(N, M, R)
    is_self = torch.arange(M, device=joints.device)[:, None] == refs[None, :]  # (M, R)
    dist = dist.masked_fill(is_self[None], 0.0)
    others = (R - is_self.sum(dim=1)).clamp(min=1).to(dist.dtype)  # (M,)
    return dist.sum(dim=2) / others


def consensus_adjustment(sibling_mm: torch.Tensor, weight_per_mm: float) -> torch.Tensor:
    """The logit change each candidate gets for agreeing with its siblings.

    sibling_mm: (N, M) ``mean_sibling_distance`` of N people's M candidates, mm.
    weight_per_mm: logit units per mm (0 = off). Returns (N, M) float32, zero-mean over
    each person's candidates; all zeros when M < MIN_CANDIDATES or the weight is 0.
    """
    sibling_mm = sibling_mm.float()
    if weight_per_mm == 0.0 or sibling_mm.shape[1] < MIN_CANDIDATES:
        return torch.zeros_like(sibling_mm)
    return -weight_per_mm * (sibling_mm - sibling_mm.mean(dim=1, keepdim=True))
