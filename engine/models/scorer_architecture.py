"""The architecture of an HMR-Scorer, as its checkpoint records it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import CheckpointError, ShapeError


@dataclass(frozen=True)
class ScorerConfig:
    """Architecture of an HMR-Scorer.

    crop_size: side S of the square crops it reads, pixels.
    width: token width; layers / heads: transformer depth and heads.
    grid: global tokens per side; mlp_ratio: feed-forward width / token width.
    detector_inputs: also read the detector's world landmarks (see the module doc).
    cross_attention: candidates cross-attend to one encoding per image (see the module doc).
    """

    crop_size: int = 128
    width: int = 128
    layers: int = 3
    heads: int = 4
    grid: int = 8
    mlp_ratio: int = 2
    detector_inputs: bool = False
    cross_attention: bool = False

    def __post_init__(self) -> None:
        if self.crop_size < 16 or self.crop_size % 16:
            raise ShapeError(f"scorer crop_size must be a multiple of 16, got {self.crop_size}")
        if self.width < 8 or self.width % self.heads or self.width % 8:
            raise ShapeError(f"scorer width {self.width} must be a multiple of 8 and of heads={self.heads}")
        if self.layers < 1 or self.grid < 1 or self.mlp_ratio < 1:
            raise ShapeError("scorer layers, grid and mlp_ratio must be >= 1")

    @classmethod
    def from_dict(cls, d: dict) -> "ScorerConfig":
        try:
            values: dict[str, Any] = {k: (bool(d[k]) if isinstance(v, bool) else int(d[k]))
                                      for k, v in asdict(cls()).items() if k in d}
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"scorer architecture is malformed ({exc})") from None
