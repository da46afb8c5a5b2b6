"""How candidates are sampled and scored: one frozen record every caller passes.

The app's Sample action, the compare dialog, ``adhmr sample``, the sample job, pairs,
evaluation and the experiment all hand one of these to
:func:`engine.models.sample_and_score.sample_and_score`, so a setting cannot drift
between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.diffusion import DEFAULT_STEPS
from engine.errors import ShapeError
from engine.models.precision import PRECISIONS
from engine.params import SEED_MAX, param

# Candidates per person: each keeps its mesh (V x 3 float32), so M = 20000 would hold
# gigabytes of vertices alone; the paper samples 100.
MAX_CANDIDATES = 1000

GUIDANCE_WORLD_WEIGHT = 0.0
"""Default weight of the world landmarks' bone directions in guided sampling
(``engine.models.guidance``). Off: on the validation renders weight 1 cost 3-6 mm
PA-MPJPE on studio and wild and gained about 1 mm on lab (README, Guided sampling)."""

FIT_START = 0.05
"""Default ``SampleSettings.fit_start``: where a body fit is given, the samples start from
it noised to 5 % of the schedule (timestep 49 of 1000). Chosen on the real recording's
first 60 frames (every 3rd, 48 views; README, Starting from the fit): Select read 80.3 /
59.5, 80.3 / 59.1, 80.4 / 59.6 and 82.8 / 61.5 mm MPJPE / PA-MPJPE at 0.025, 0.05, 0.1
and 0.15, against 107.0 / 80.7 from pure noise with the fit as a candidate."""


@dataclass(frozen=True)
class SampleSettings:
    """num_candidates: M hypotheses per person (1..MAX_CANDIDATES); hypothesis 0 starts from zero noise.
    steps: DDIM steps (network evaluations, >= 1). eta: DDIM η (0 = deterministic steps).
    seed: the sampler's seed (the same seed gives the same candidates).
    precision: 'fp32', 'bf16' or 'auto' for the sampler and scorer networks (decoding is
        always float32); interactive front ends use 'auto', evaluation and training 'fp32'.
    consensus: let the scorer compare a person's candidates with each other (its
        sample-consensus term); False scores each candidate on its own.
    chunk_size: at most this many rows (person x hypothesis) per network call and per
        decoding pass; bounds memory, never changes a result.
    device: where the models are loaded: 'auto' (CUDA when present), 'cpu', 'cuda:N'.
    guidance_scale: step size with which each DDIM step's clean estimate is pulled towards
        the detected 2D keypoints (``engine.models.guidance``; 0 = unguided, >= 0).
    orient: turn each sampled candidate to face as the detector's 3D world landmarks do
        and re-fit its camera to the 2D keypoints (``engine.models.orientation``); persons
        without landmarks are left as sampled.
    guidance_world: how much guided sampling also pulls the body's bone directions
        towards the detector's 3D world landmarks, against the 2D term (>= 0; 0 = 2D only;
        no effect unguided or for a person without landmarks).
    fit_start: start the samples from the person's body fit (``engine.fitting``) noised
        to this fraction of the diffusion schedule instead of from pure noise, so they
        refine the fit (SDEdit; in [0, 1], 0 = off). Only where a fit is given
        (``sample_image``'s extra "fit"); elsewhere the samples start from noise.
    Raises ShapeError for a value out of range.
    """

    num_candidates: int = field(default=20, metadata=param("hypotheses sampled per person", ge=1,
                                                           le=MAX_CANDIDATES, aliases=("M",)))
    steps: int = field(default=DEFAULT_STEPS, metadata=param("DDIM network evaluations per hypothesis", ge=1))
    eta: float = field(default=0.0, metadata=param("DDIM η (0: deterministic steps)", ge=0))
    seed: int = field(default=0, metadata=param("the sampler's seed", ge=0, le=SEED_MAX))
    precision: str = field(default="fp32", metadata=param("network precision", choices=PRECISIONS))
    consensus: bool = field(default=True, metadata=param(
        "candidates that agree with the rest of their run score higher (off: the scorer network alone)"))
    chunk_size: int = field(default=1024, metadata=param("rows per network call (bounds memory)", ge=1))
    device: str = field(default="auto", metadata=param("auto (CUDA when available), cpu, cuda, cuda:1, ..."))
    guidance_scale: float = field(default=0.0, metadata=param(
        "pull each DDIM step towards the detected 2D keypoints with this step size (0: unguided)", ge=0))
    orient: bool = field(default=True, metadata=param(
        "turn each candidate to face as the detector's 3D landmarks do (off: as sampled)"))
    guidance_world: float = field(default=GUIDANCE_WORLD_WEIGHT, metadata=param(
        "guided sampling also follows the detector's 3D landmarks with this weight (0: 2D only)", ge=0))
    fit_start: float = field(default=FIT_START, metadata=param(
        "start the samples from the body fit noised to this fraction of the schedule (0: from pure noise)",
        ge=0, le=1))

    def __post_init__(self) -> None:
        if not 1 <= int(self.num_candidates) <= MAX_CANDIDATES:
            raise ShapeError(f"num_candidates must be 1..{MAX_CANDIDATES}, got {self.num_candidates} "
                             "(every candidate keeps a full mesh; sample again with another seed for more)")
        if int(self.steps) < 1:
            raise ShapeError(f"steps must be at least 1, got {self.steps}")
        if not float(self.eta) >= 0.0:
            raise ShapeError(f"eta must be >= 0, got {self.eta}")
        if self.precision not in PRECISIONS:
            raise ShapeError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not float(self.guidance_scale) >= 0.0:
            raise ShapeError(f"guidance_scale must be >= 0, got {self.guidance_scale}")
        if not float(self.guidance_world) >= 0.0:
            raise ShapeError(f"guidance_world must be >= 0, got {self.guidance_world}")
        if not 0.0 <= float(self.fit_start) <= 1.0:
            raise ShapeError(f"fit_start must lie in [0, 1], got {self.fit_start}")
        if int(self.chunk_size) < 1:
            raise ShapeError(f"chunk_size must be at least 1, got {self.chunk_size}")
