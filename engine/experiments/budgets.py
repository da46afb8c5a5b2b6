"""How much work ``adhmr experiment`` does: named budgets and explicit overrides.

'tiny' exists for tests (seconds with tiny models); 'small' is an honest but short run
on a laptop CPU (about 10 to 15 minutes on two busy cores with the default checkpoints); 'medium' and 'large'
are for a GPU. Any field can be overridden (``Budget.with_overrides``). The synthetic
track's sizes are a ``Budget``, the real-footage track's a ``RealBudget`` (same names).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Mapping, TypeVar

from engine.errors import DataError


@dataclass(frozen=True)
class Budget:
    """Sizes of the experiment.

    image_size: side of the synthetic images (pixels).
    n_pool / n_val / n_test / n_pseudo: wild images: unlabelled pool the pairs come
        from, validation (logged during fine-tuning, never used to pick numbers), test
        (every reported number), and the pseudo-labelled set for cleaning.
    corrupt_fraction: share of the pseudo-labels given realistic errors.
    seeds: replicates; each draws its own candidates, pairs, training order and
        evaluation samples (the data sets stay the same).
    pair_candidates / pairs_per_image / top_k / bottom_k / min_margin: pair building.
        The margin is 0 by default: the scorer is trained to rank (RankNet), and its
        sigmoid scores of a whole candidate set can sit within 0.01 of each other
        (even ground-truth bodies score below 0.05 with the bundled scorer), so the
        top-k / bottom-k split is what separates winners from losers.
    dpo_steps / dpo_batch / dpo_lr / beta: DPO and, with the same budget, its control.
    eval_M: hypotheses per test person; val_images: people of val evaluated at the end
        of each fine-tuning.
    clean_steps / clean_batch / clean_lr: supervised fine-tuning on each cleaned subset.

    The learning rates were chosen on the validation set with the bundled checkpoints
    (never on the test set): DPO at 5e-5 raised every validation error within 150
    steps, 1e-5 did not; supervised fine-tuning at 5e-5 for 60 steps hardly moved the
    model (even labels without corruption made no difference), at 2e-4 it did.
    keep_fractions: the cleaned subsets (besides 100 %).
    """

    image_size: int = 256
    n_pool: int = 64
    n_val: int = 24
    n_test: int = 96
    n_pseudo: int = 160
    corrupt_fraction: float = 0.3
    seeds: int = 3
    pair_candidates: int = 30
    pairs_per_image: int = 4
    top_k: int = 5
    bottom_k: int = 5
    min_margin: float = 0.0
    dpo_steps: int = 150
    dpo_batch: int = 16
    dpo_lr: float = 1e-5
    beta: float = 100.0
    eval_M: int = 10
    val_images: int = 24
    clean_steps: int = 60
    clean_batch: int = 16
    clean_lr: float = 2e-4
    keep_fractions: tuple[float, ...] = (0.8, 0.6)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep_fractions", tuple(float(f) for f in self.keep_fractions))
        small = [f.name for f in fields(self) if f.type in ("int",) and getattr(self, f.name) < 1]
        if small:
            raise DataError(f"experiment budget: {', '.join(small)} must be at least 1")
        if self.seeds < 3:
            raise DataError(f"experiment budget: at least 3 seeds are needed for a spread, got {self.seeds}")
        if self.top_k + self.bottom_k > self.pair_candidates:
            raise DataError("experiment budget: top_k + bottom_k must not exceed pair_candidates")
        if not 0 < self.corrupt_fraction < 1:
            raise DataError("experiment budget: corrupt_fraction must lie in (0, 1)")
        if not all(0 < f < 1 for f in self.keep_fractions):
            raise DataError("experiment budget: keep_fractions must lie in (0, 1)")

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Budget":
        """A copy with some fields replaced (None values are ignored)."""
        return _overridden(self, overrides)

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


BUDGETS: dict[str, Budget] = {
    "tiny": Budget(image_size=128, n_pool=4, n_val=2, n_test=3, n_pseudo=10, pair_candidates=6, pairs_per_image=2,
                   top_k=2, bottom_k=2, dpo_steps=2, dpo_batch=2, eval_M=3, val_images=2,
                   clean_steps=2, clean_batch=2),
    "small": Budget(),
    "medium": Budget(n_pool=400, n_val=100, n_test=300, n_pseudo=1000, pair_candidates=50, dpo_steps=1000,
                     dpo_batch=32, eval_M=20, val_images=100, clean_steps=500, clean_batch=32),
    "large": Budget(n_pool=2000, n_val=300, n_test=1000, n_pseudo=5000, pair_candidates=50, dpo_steps=5000,
                    dpo_batch=64, eval_M=50, val_images=300, clean_steps=3000, clean_batch=64, seeds=5),
}


def get_budget(name: str) -> Budget:
    try:
        return BUDGETS[name]
    except KeyError:
        raise DataError(f"experiment: unknown budget {name!r}, expected one of {', '.join(BUDGETS)}") from None


POOL_FRAMES = range(0, 60)
"""Frames of every camera whose people form the real track's unlabelled pool."""
TEST_FRAMES = range(60, 100)
"""Frames of every camera the real track is measured on (against the triangulation)."""


@dataclass(frozen=True)
class RealBudget:
    """Sizes of the real-footage track (Pose2Sim's four-camera recording).

    pool_stride / test_stride: every n-th frame of ``POOL_FRAMES`` / ``TEST_FRAMES``
        (all four cameras of each); the pool's people are unlabelled (pairs, fit
        pseudo-labels), the test views are measured against the triangulated reference.
    max_error_px: test frames whose triangulation reprojects worse than this (mean over
        joints and views, px) are dropped, as in ``adhmr eval-multiview``.
    The other fields mean what they mean in ``Budget``; the DPO and fine-tuning
    settings are the synthetic track's (chosen there on validation; the recording has no
    labelled frames to choose on).
    """

    pool_stride: int = 2
    test_stride: int = 1
    max_error_px: float = 30.0
    seeds: int = 3
    pair_candidates: int = 30
    pairs_per_image: int = 4
    top_k: int = 5
    bottom_k: int = 5
    min_margin: float = 0.0
    dpo_steps: int = 150
    dpo_batch: int = 16
    dpo_lr: float = 1e-5
    beta: float = 100.0
    eval_M: int = 10
    clean_steps: int = 60
    clean_batch: int = 16
    clean_lr: float = 2e-4
    keep_fractions: tuple[float, ...] = (0.8, 0.6)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep_fractions", tuple(float(f) for f in self.keep_fractions))
        small = [f.name for f in fields(self) if f.type in ("int",) and getattr(self, f.name) < 1]
        if small:
            raise DataError(f"experiment budget: {', '.join(small)} must be at least 1")
        if self.seeds < 3:
            raise DataError(f"experiment budget: at least 3 seeds are needed for a spread, got {self.seeds}")
        if self.top_k + self.bottom_k > self.pair_candidates:
            raise DataError("experiment budget: top_k + bottom_k must not exceed pair_candidates")
        if not all(0 < f < 1 for f in self.keep_fractions):
            raise DataError("experiment budget: keep_fractions must lie in (0, 1)")
        if not self.max_error_px > 0:
            raise DataError("experiment budget: max_error_px must be positive")

    def with_overrides(self, overrides: Mapping[str, Any]) -> "RealBudget":
        """A copy with some fields replaced (None values are ignored)."""
        return _overridden(self, overrides)

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)

    @property
    def pool_frames(self) -> range:
        return POOL_FRAMES[:: self.pool_stride]

    @property
    def test_frames(self) -> range:
        return TEST_FRAMES[:: self.test_stride]


REAL_BUDGETS: dict[str, RealBudget] = {
    "tiny": RealBudget(pool_stride=30, test_stride=20, max_error_px=1e6, pair_candidates=6, pairs_per_image=2,
                       top_k=2, bottom_k=2, dpo_steps=2, dpo_batch=2, eval_M=3, clean_steps=2, clean_batch=2),
    "small": RealBudget(),
    "medium": RealBudget(pool_stride=1, pair_candidates=50, dpo_steps=1000, dpo_batch=32, eval_M=20,
                         clean_steps=500, clean_batch=32),
    "large": RealBudget(pool_stride=1, pair_candidates=50, dpo_steps=5000, dpo_batch=64, eval_M=50,
                        clean_steps=3000, clean_batch=64, seeds=5),
}


def get_real_budget(name: str) -> RealBudget:
    try:
        return REAL_BUDGETS[name]
    except KeyError:
        raise DataError(f"experiment: unknown budget {name!r}, expected one of {', '.join(REAL_BUDGETS)}") from None


_B = TypeVar("_B", Budget, RealBudget)


def _overridden(budget: _B, overrides: Mapping[str, Any]) -> _B:
    known = {f.name for f in fields(budget)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise DataError(f"experiment budget: unknown setting {', '.join(unknown)}")
    return replace(budget, **{k: v for k, v in overrides.items() if v is not None})


def _as_dict(budget: Budget | RealBudget) -> dict[str, Any]:
    d = asdict(budget)
    d["keep_fractions"] = list(budget.keep_fractions)
    return d
