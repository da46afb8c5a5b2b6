"""What the engine needs of a sampler and a scorer, so a researcher's own model can stand in.

The built-in :class:`~engine.models.diffusion_hmr.DiffusionHMR` is a :class:`Sampler` and
:class:`~engine.models.scorer.HMRScorer` a :class:`Scorer`; another package's model only has
to provide the same few members (``isinstance`` checks them, as the protocols are
runtime-checkable). :func:`engine.models.sample_and_score.sample_and_score` is typed
against these, never against the built-in classes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from engine.diffusion import DEFAULT_STEPS
from engine.models.candidates import Candidates
from engine.models.param_layout import ParamLayout


@runtime_checkable
class Sampler(Protocol):
    """Draws M candidate parameter vectors per person from a crop and its keypoints."""

    layout: ParamLayout
    """The parameter vector it writes (rotations, shape, camera)."""

    @property
    def crop_size(self) -> int:
        """Side S in pixels of the square crops it reads."""
        ...

    @property
    def device(self) -> torch.device:
        """Where its inputs must be."""
        ...

    def sample(
        self, images: torch.Tensor, keypoints: torch.Tensor, num_hypotheses: int, steps: int = DEFAULT_STEPS,
        eta: float = 0.0, seed: int = 0, chunk_size: int = 2048,
    ) -> torch.Tensor:
        """images: (B, 3, S, S) normalised crops; keypoints: (B, 17, 3) normalised crop
        coordinates + confidence. Returns (B, M, D) raw parameter vectors; hypothesis 0 is
        the sampler's most likely one. The same seed gives the same vectors; chunk_size
        (rows per network call) does not change them."""
        ...


@runtime_checkable
class Scorer(Protocol):
    """Scores decoded candidates of a person against its crop: higher is better."""

    @property
    def crop_size(self) -> int:
        """Side S' in pixels of the square crops it reads."""
        ...

    @property
    def device(self) -> torch.device:
        """Where its inputs must be."""
        ...

    def candidate_logits(self, images: torch.Tensor, keypoints: torch.Tensor, candidates: Candidates) -> torch.Tensor:
        """images: (N, 3, S', S') normalised crops; keypoints: (N, 17, 3); candidates of N
        persons, M each. Returns (N, M) logits, each candidate on its own."""
        ...

    def scores_from_logits(self, logits: torch.Tensor, sibling_mm: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (N, M) in [0, 1] from logits (N, M). sibling_mm: (N, M) each candidate's
        mean PA distance to its person's other candidates, mm, for a scorer that rewards
        agreement (``engine.models.consensus``); None scores each candidate on its own."""
        ...
