"""A toy sampler and scorer: what a researcher's own model has to provide, and no more.

The sampler draws upright bodies whose joints bend by seeded noise (hypothesis 0 bends
none); the scorer prefers bodies that bend less. Neither reads the image.
"""

from __future__ import annotations

import math

import torch

from engine.models.param_layout import ParamLayout

CROP = 64
BEND = 0.3


class ToySampler:
    layout = ParamLayout()
    crop_size = CROP

    def __init__(self, device: str) -> None:
        self.device = torch.device(device)

    def sample(self, images, keypoints, num_hypotheses, steps=4, eta=0.0, seed=0, chunk_size=2048):
        B = images.shape[0]
        g = torch.Generator().manual_seed(seed)
        pose = torch.randn(B, num_hypotheses, 72, generator=g) * BEND
        pose[:, 0] = 0.0
        pose[..., :3] = torch.tensor([math.pi, 0.0, 0.0])  # upright, facing the camera
        betas = torch.zeros(B, num_hypotheses, 10)
        cam = torch.tensor([0.8, 0.0, 0.0]).expand(B, num_hypotheses, 3)
        return self.layout.from_axis_angle(pose, betas, cam).to(self.device)


class ToyScorer:
    crop_size = CROP

    def __init__(self, device: str) -> None:
        self.device = torch.device(device)

    def candidate_logits(self, images, keypoints, candidates):
        return -candidates.pose_aa[..., 3:].norm(dim=-1).to(self.device)

    def scores_from_logits(self, logits, sibling_mm=None):
        return torch.sigmoid(logits)


def load_sampler(checkpoint, body, device):
    return ToySampler(device)


def load_scorer(checkpoint, body, device):
    return ToyScorer(device)
