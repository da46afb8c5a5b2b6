"""The body's limb and girdle bones between COCO-17 keypoints, and their directions.

The world landmarks of the pose detector give these directions in 3D; the fit
(``engine.fitting``), guided sampling and the orientation step (``engine.models``) compare
a body's with them.
"""

from __future__ import annotations

import torch

# COCO-17 bones whose directions the world landmarks give: arms, legs, shoulder and hip lines.
BONES: tuple[tuple[int, int], ...] = (
    (5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16), (5, 6), (11, 12),
)


def bone_directions(points: torch.Tensor) -> torch.Tensor:
    """points: (B, 17, 3) -> (B, len(BONES), 3) unit vectors from each bone's first to second point."""
    a = points[:, [b[0] for b in BONES]]
    b = points[:, [b[1] for b in BONES]]
    return torch.nn.functional.normalize(b - a, dim=-1, eps=1e-6)


def bone_weights(confidence: torch.Tensor) -> torch.Tensor:
    """confidence: (B, 17) per keypoint -> (B, len(BONES)) the lower of each bone's two ends."""
    a = confidence[:, [b[0] for b in BONES]]
    b = confidence[:, [b[1] for b in BONES]]
    return torch.minimum(a, b)
