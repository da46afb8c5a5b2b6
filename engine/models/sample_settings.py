"""How candidates are sampled and scored: one frozen record every caller passes.

The app's Sample action, the compare dialog, ``adhmr sample``, the sample job, pairs,
evaluation and the experiment all hand one of these to
:func:`engine.models.sample_and_score.sample_and_score`, so a setting cannot drift
between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import ShapeError
from engine.models.precision import PRECISIONS


@dataclass(frozen=True)
class SampleSettings:
    """num_candidates: M hypotheses per person (>= 1); hypothesis 0 starts from zero noise.
    steps: DDIM steps (network evaluations, >= 1). eta: DDIM η (0 = deterministic steps).
    seed: the sampler's seed (the same seed gives the same candidates).
    precision: 'fp32', 'bf16' or 'auto' for the sampler and scorer networks (decoding is
        always float32); interactive front ends use 'auto', evaluation and training 'fp32'.
    consensus: let the scorer compare a person's candidates with each other (its
        sample-consensus term); False scores each candidate on its own.
    chunk_size: at most this many rows (person x hypothesis) per network call and per
        decoding pass; bounds memory, never changes a result.
    device: where the models are loaded: 'auto' (CUDA when present), 'cpu', 'cuda:N'.
    Raises ShapeError for a value out of range.
    """

    num_candidates: int = 20
    steps: int = 4
    eta: float = 0.0
    seed: int = 0
    precision: str = "fp32"
    consensus: bool = True
    chunk_size: int = 1024
    device: str = "auto"

    def __post_init__(self) -> None:
        if int(self.num_candidates) < 1:
            raise ShapeError(f"num_candidates must be at least 1, got {self.num_candidates}")
        if int(self.steps) < 1:
            raise ShapeError(f"steps must be at least 1, got {self.steps}")
        if not float(self.eta) >= 0.0:
            raise ShapeError(f"eta must be >= 0, got {self.eta}")
        if self.precision not in PRECISIONS:
            raise ShapeError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if int(self.chunk_size) < 1:
            raise ShapeError(f"chunk_size must be at least 1, got {self.chunk_size}")
