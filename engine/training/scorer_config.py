"""What a scorer training run needs, in its own module so that the trainer, its data and
its evaluation all read it without importing each other."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from engine.diffusion import DEFAULT_STEPS
from engine.errors import ShapeError
from engine.training.candidate_noise import ERROR_NAMES, CandidateNoise


@dataclass(frozen=True)
class ScorerTrainConfig:
    """Everything a scorer training run needs; recorded in the checkpoint.

    data / val: labelled annotation files (SPIN/ProHMR .npz or COCO .json with SMPL labels);
        without ``val`` up to ``val_images`` training images are held out.
    out: checkpoint stem; the resumable state goes to ``OUT.train.pt``.
    base: a base diffusion checkpoint; ``base_candidates`` of each image's
        ``candidates_per_image`` then come from it, drawn with ``base_steps`` DDIM steps
        (default: the samplers' ``DEFAULT_STEPS``, so the scorer learns on candidates
        like those it will rank).
    crop_size: None = the base model's, else 128.
    ema_decay: 0 switches the exponential moving average of the weights off.
    tie_mm: pairs whose errors differ by less than this are not ranked.
    error_weights: {error name: weight} of each error's ranking term (missing = 1). MPJPE
        and PVE order a base model's samples alike and PA-MPJPE differently (per-image
        rank correlation about 0.5), so equal weights lean the ranking 2:1 towards the
        global errors; weight PA-MPJPE up where the articulated pose matters most.
    include_pseudo: also train on labels marked 'pseudo' (left out by default).
    init: a scorer checkpoint whose weights a fresh run starts from (fine-tuning, e.g. a
        second stage with base samples); its architecture must match width/heads and crop
        size, and have at most ``layers`` layers (a deeper run grows it, the new layers
        starting as the identity). Ignored on resume (the state holds the weights).
    detector_inputs: the scorer also reads the pose detector's world landmarks, and the
        detector's rather than the labelled 2D keypoints; every annotation file needs its
        detector cache (``adhmr detect-dataset``). A detector-conditioned base needs it too.
    cross_attention: the candidates cross-attend to one encoding per image
        (``engine.models.scorer``).
    sample_cache: a file of base samples drawn once per training person
        (``engine.training.scorer_sample_cache``), written on first use; the training
        steps then take their base candidates from it (validation still samples).
    cache_samples: samples per person in that file (0 = ``base_candidates``); each step
        takes a random ``base_candidates`` of them.
    """

    data: str
    out: str
    val: str | None = None
    base: str | None = None
    steps: int = 20000
    batch_size: int = 8
    candidates_per_image: int = 16
    base_candidates: int = 4
    base_steps: int = DEFAULT_STEPS
    lr: float = 3e-4
    weight_decay: float = 0.05
    warmup_steps: int = 200
    grad_clip: float = 1.0
    ema_decay: float = 0.0
    tie_mm: float = 0.0
    width: int = 128
    layers: int = 3
    heads: int = 4
    crop_size: int | None = None
    augment: bool = True
    seed: int = 0
    device: str | None = None
    num_workers: int = 0
    val_images: int = 64
    val_every: int = 500
    save_every: int = 500
    resume: bool = False
    body_model: str | None = None
    include_pseudo: bool = False
    init: str | None = None
    detector_inputs: bool = False
    cross_attention: bool = False
    sample_cache: str | None = None
    cache_samples: int = 0
    noise: CandidateNoise = field(default_factory=CandidateNoise)
    error_weights: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.error_weights) - set(ERROR_NAMES)
        if unknown:
            raise ShapeError(f"error_weights: unknown error {min(unknown)!r}; use {', '.join(ERROR_NAMES)}")
        weights = self.weights()
        if any(not math.isfinite(w) or w < 0 for w in weights.values()) or not any(weights.values()):
            raise ShapeError(f"error_weights must be >= 0 and not all 0, got {weights}")
        if isinstance(self.noise, dict):  # from a JSON config (job parameters, a checkpoint)
            try:
                object.__setattr__(self, "noise", CandidateNoise(**self.noise))
            except TypeError as exc:
                raise ShapeError(f"noise: {exc}") from None
        if self.base_steps < 1:
            raise ShapeError(f"base_steps must be at least 1, got {self.base_steps}")
        if self.candidates_per_image < 2:
            raise ShapeError(f"candidates_per_image must be >= 2 to rank, got {self.candidates_per_image}")
        if self.base and not 0 <= self.base_candidates < self.candidates_per_image:
            raise ShapeError(
                f"base_candidates must be in [0, candidates_per_image), got {self.base_candidates}"
            )
        if self.sample_cache and not self.base:
            raise ShapeError("sample_cache needs a base model (--base) to sample from")
        if self.cache_samples and self.cache_samples < self.base_candidates:
            raise ShapeError(f"cache_samples must be >= base_candidates ({self.base_candidates}), "
                             f"got {self.cache_samples}")
        for name in ("steps", "batch_size", "val_every", "save_every"):
            if getattr(self, name) < 1:
                raise ShapeError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.ema_decay < 1:
            raise ShapeError(f"ema_decay must be in [0, 1), got {self.ema_decay}")

    def to_dict(self) -> dict:
        return asdict(self)

    def weights(self) -> dict[str, float]:
        """The weight of every error's ranking term."""
        return {name: float(self.error_weights.get(name, 1.0)) for name in ERROR_NAMES}
