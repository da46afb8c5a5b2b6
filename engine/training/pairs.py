"""Preference pairs for Diffusion-DPO: which candidate body of a person beats which.

Automatic pairs come from unlabelled images: the base model samples M candidates per
person (hypothesis 0 from zero noise), the HMR-Scorer scores them, and winners are
drawn from the top of the ranking and losers from the bottom, each pair at least
``min_margin`` apart in log-odds (:func:`select_pairs`). Manual pairs are picked by hand
(the app, or a JSONL file). Both kinds are :class:`PreferencePair` records that keep
their provenance (source, the checkpoints that made them, the scores, the candidates'
parameters, the image and crop), and mix in one training set through
:func:`merge_pairs`, where a manual decision always wins over an automatic one for the
same two candidates.

Pairs are built from plain files (:func:`build_pairs`: records of any dataset the
engine reads, plus checkpoints) or inside a project (``engine.projects.pairs.propose_project_pairs`` over
stored, scored candidates; ``project_pairs`` reads a project's pairs back for
training). :mod:`engine.training.pair_io` reads and writes them as JSONL or npz.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from engine.data.crops import CropTransform
from engine.data.detector_cache import DatasetDetections
from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM, landmark_tokens, tokens_of
from engine.data.records import PersonSample
from engine.diffusion import DEFAULT_STEPS
from engine.errors import DataError, ImageError, ShapeError
from engine.params import SEED_MAX, param
from engine.image_io import load_image
from engine.body.model import BodyModel
from engine.models.protocols import Sampler
from engine.models.scorer import HMRScorer
from engine.models.sample_and_score import sample_person
from engine.models.sample_settings import SampleSettings
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)

SOURCES = ("auto", "manual")
STATUSES = ("proposed", "accepted", "rejected", "skipped", "both_bad")
TRAINING_STATUSES = ("proposed", "accepted")
"""Statuses whose pairs train: a proposal nobody overruled, or one a person accepted."""
MAX_MARGIN = 20.0
"""Log-odds; float32 scores saturate near 17, so a larger margin could never be met."""


def log_odds(scores: Any) -> np.ndarray:
    """log(s / (1 - s)) of scores in [0, 1], float64, the scale pair margins are measured
    on; clipped so a float32 score of exactly 0 or 1 stays finite."""
    p = np.clip(np.asarray(scores, np.float64), 1e-12, 1.0 - 1e-12)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class PairConfig:
    """How automatic pairs are built.

    num_candidates: M hypotheses sampled per person (hypothesis 0 from zero noise).
    pairs_per_image: at most this many pairs per person.
    top_k / bottom_k: winners come from the k best-scored candidates, losers from the
        k worst.
    min_margin: a pair's winner must outscore its loser by at least this in log-odds,
        logit(s_w) - logit(s_l). On the probability scale a confident image (scores
        0.98-0.999) would look like a tie; in log-odds every image counts alike (0.2 is
        about 0.05 where scores are near 0.5).
    steps: DDIM steps of the sampler. seed: person i is sampled with seed + i.
    """

    num_candidates: int = field(default=50, metadata=param("hypotheses sampled per person", ge=2, aliases=("M",)))
    pairs_per_image: int = field(default=4, metadata=param("pairs proposed per person", ge=1,
                                                           aliases=("per_person",)))
    top_k: int = field(default=5, metadata=param("winners come from this many best-scored candidates", ge=1))
    bottom_k: int = field(default=5, metadata=param("losers come from this many worst-scored candidates", ge=1))
    min_margin: float = field(default=0.2, metadata=param(
        "smallest gap in log-odds between the winner's and the loser's score (0.2 is about 0.05 near a score "
        "of 0.5)", ge=0, le=MAX_MARGIN))
    steps: int = field(default=DEFAULT_STEPS, metadata=param("DDIM network evaluations per hypothesis", ge=1))
    seed: int = field(default=0, metadata=param("person i is sampled with seed + i", ge=0, le=SEED_MAX))

    def __post_init__(self) -> None:
        if self.num_candidates < 2 or self.pairs_per_image < 1 or self.steps < 1:
            raise DataError("pairs: num_candidates must be >= 2, pairs_per_image and steps >= 1")
        if self.top_k < 1 or self.bottom_k < 1 or self.top_k + self.bottom_k > self.num_candidates:
            raise DataError(
                f"pairs: top_k ({self.top_k}) and bottom_k ({self.bottom_k}) must be >= 1 and together at "
                f"most num_candidates ({self.num_candidates})")
        if not 0.0 <= self.min_margin <= MAX_MARGIN:
            raise DataError(f"pairs: min_margin (log-odds) must be in [0, {MAX_MARGIN:g}], got {self.min_margin}")


@dataclass(frozen=True, eq=False)
class PreferencePair:
    """One preference: in ``image``, candidate ``winner`` fits the person better than ``loser``.

    image: the image file. crop_center: (2,) float64 px and crop_size: px, the square
        crop the candidates' cameras are for (``CropTransform(center, size, S)``).
    keypoints: (17, 3) float32 COCO-17 x, y pixels of the full image + confidence.
    winner, loser: (D,) float32 raw parameter vectors (``ParamLayout``: 24 x 6D
        rotations root first, 10 betas, weak-perspective camera s, tx, ty).
    winner_score, loser_score: the scorer's scores in (0, 1), or None (manual pairs).
    source: 'auto' (scorer-built) or 'manual' (by hand).
    status: 'proposed' (automatic, nobody decided), 'accepted', 'rejected', 'skipped'
        or 'both_bad'; only proposed and accepted pairs train.
    person: a key naming the person (same person, same key).
    winner_key / loser_key: keys naming each candidate, so a manual decision finds the
        automatic pair it overrules (default: a hash of the parameters).
    winner_index / loser_index: positions among the sampled hypotheses, when known.
    base_checkpoint / scorer_checkpoint: what sampled and scored the candidates.
    box: (4,) float32 x0, y0, x1, y1 px of the person, or None. pair_id: the project's id.
    landmarks: (33, 6) float32 the detector's landmark tokens of the person
        (``engine.data.landmark_tokens``), which a detector-conditioned model reads
        beside the crop and keypoints; None when unknown (read as 'not found').
    """

    image: str
    crop_center: np.ndarray
    crop_size: float
    keypoints: np.ndarray
    winner: np.ndarray
    loser: np.ndarray
    winner_score: float | None = None
    loser_score: float | None = None
    source: str = "auto"
    status: str = "proposed"
    person: str = ""
    winner_key: str = ""
    loser_key: str = ""
    winner_index: int | None = None
    loser_index: int | None = None
    base_checkpoint: str | None = None
    scorer_checkpoint: str | None = None
    box: np.ndarray | None = None
    pair_id: int | None = None
    landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.image, str) or not self.image:
            raise DataError(f"pair: image must be a non-empty path, got {self.image!r}")
        set_(self, "crop_center", _array("crop_center", self.crop_center, (2,), np.float64))
        if not (np.isfinite(self.crop_size) and float(self.crop_size) > 0):
            raise ShapeError(f"pair {self.image}: crop_size must be > 0, got {self.crop_size!r}")
        set_(self, "crop_size", float(self.crop_size))
        set_(self, "keypoints", _array("keypoints", self.keypoints, (17, 3), np.float32))
        winner = _array("winner", self.winner, (-1,), np.float32)
        loser = _array("loser", self.loser, (winner.size,), np.float32)
        set_(self, "winner", winner)
        set_(self, "loser", loser)
        if self.box is not None:
            set_(self, "box", _array("box", self.box, (4,), np.float32))
        if self.landmarks is not None:
            set_(self, "landmarks", _array("landmarks", self.landmarks, (NUM_LANDMARKS, TOKEN_DIM), np.float32))
        if self.source not in SOURCES:
            raise DataError(f"pair {self.image}: source must be one of {SOURCES}, got {self.source!r}")
        if self.status not in STATUSES:
            raise DataError(f"pair {self.image}: status must be one of {STATUSES}, got {self.status!r}")
        for name in ("winner_score", "loser_score"):
            v = getattr(self, name)
            set_(self, name, None if v is None or not np.isfinite(v) else float(v))
        set_(self, "winner_key", self.winner_key or params_key(winner))
        set_(self, "loser_key", self.loser_key or params_key(loser))
        set_(self, "person", self.person or f"{self.image}@{self.crop_center[0]:.1f},{self.crop_center[1]:.1f}")

    @property
    def dim(self) -> int:
        return self.winner.size

    @property
    def margin(self) -> float | None:
        """winner_score - loser_score, or None when either is unknown."""
        if self.winner_score is None or self.loser_score is None:
            return None
        return self.winner_score - self.loser_score

    @property
    def decided(self) -> bool:
        """Whether a person made this call (a manual pair, or any non-proposed status)."""
        return self.source == "manual" or self.status != "proposed"

    @property
    def trains(self) -> bool:
        return self.status in TRAINING_STATUSES

    def crop(self, out_size: int) -> CropTransform:
        return CropTransform(self.crop_center, self.crop_size, out_size)

    def flipped(self) -> "PreferencePair":
        """The same two candidates, winner and loser exchanged."""
        return replace(
            self, winner=self.loser, loser=self.winner, winner_score=self.loser_score,
            loser_score=self.winner_score, winner_key=self.loser_key, loser_key=self.winner_key,
            winner_index=self.loser_index, loser_index=self.winner_index)


def _array(name: str, value: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    try:
        arr = np.array(value, dtype=dtype)
    except (TypeError, ValueError):
        raise ShapeError(f"pair {name}: not an array of numbers") from None
    if shape == (-1,):
        ok = arr.ndim == 1 and arr.size > 0
    else:
        ok = arr.shape == shape
    if not ok:
        raise ShapeError(f"pair {name}: expected shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ShapeError(f"pair {name}: holds NaN or infinite values")
    arr.setflags(write=False)
    return arr


def params_key(params: np.ndarray) -> str:
    """A short stable name for a candidate: the hash of its float32 parameters."""
    return "p:" + hashlib.sha1(np.ascontiguousarray(params, np.float32).tobytes()).hexdigest()[:16]


def select_pairs(scores: np.ndarray, config: PairConfig) -> list[tuple[int, int]]:
    """(winner, loser) indices into ``scores`` (M,), best pairs first.

    Candidates are ranked by score (ties: lower index first). Winners are the top_k,
    losers the bottom_k; pairs are taken in order of rank distance from the extremes
    (best vs worst, best vs 2nd worst, 2nd best vs worst, ...) and kept when the winner
    outscores the loser by at least min_margin in log-odds, up to pairs_per_image.
    """
    scores = np.asarray(scores, np.float64).reshape(-1)
    if scores.size < config.top_k + config.bottom_k or not np.isfinite(scores).all():
        raise ShapeError(f"pairs: need {config.top_k + config.bottom_k} finite scores, got {scores.size}")
    order = np.argsort(-scores, kind="stable")
    gap = log_odds(scores)
    top, bottom = order[: config.top_k], order[::-1][: config.bottom_k]
    grid = sorted(((i, j) for i in range(len(top)) for j in range(len(bottom))), key=lambda ij: (sum(ij), ij[0]))
    out = []
    for i, j in grid:
        w, lo = int(top[i]), int(bottom[j])
        if gap[w] - gap[lo] >= config.min_margin:
            out.append((w, lo))
            if len(out) == config.pairs_per_image:
                break
    return out


def merge_pairs(pairs: Sequence[PreferencePair], training_only: bool = True) -> list[PreferencePair]:
    """One training set from automatic and manual pairs.

    Pairs of the same person and the same two candidates (either way round) form a
    group. If anyone decided on the group (a manual pair, or an automatic one whose
    status was set by hand), the last such decision wins: accepted keeps the pair with
    that decision's winner (so a flipped manual pair flips the automatic one), rejected,
    skipped and both_bad drop it. Otherwise the first automatic proposal stands.
    training_only: return only pairs that train (else the resolved pair of every group).
    Order: each group where its first pair was.
    """
    groups: dict[tuple[str, frozenset[str]], list[PreferencePair]] = {}
    for p in pairs:
        groups.setdefault((p.person, frozenset((p.winner_key, p.loser_key))), []).append(p)
    out = []
    for members in groups.values():
        decided = [p for p in members if p.decided]
        chosen = decided[-1] if decided else members[0]
        if chosen.trains or not training_only:
            out.append(chosen)
    return out


def check_layout(pairs: Sequence[PreferencePair], dim: int, where: str = "pairs") -> None:
    """DataError unless every pair's vectors have ``dim`` entries (the model's layout)."""
    bad = sorted({p.dim for p in pairs if p.dim != dim})
    if bad:
        raise DataError(f"{where}: parameter vectors of length {bad[0]}, but the model's layout has {dim}")


def build_pairs(
    records: Sequence[PersonSample],
    base: Sampler,
    scorer: HMRScorer,
    body: BodyModel,
    config: PairConfig = PairConfig(),
    base_checkpoint: str | None = None,
    scorer_checkpoint: str | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    detections: DatasetDetections | None = None,
) -> list[PreferencePair]:
    """Automatic pairs for people in images (no 3D labels needed).

    records: people with a box and COCO-17 keypoints (any labels are ignored).
    base: a DiffusionHMR; scorer: an HMRScorer; body: the BodyModel both use.
    base_checkpoint / scorer_checkpoint: recorded in each pair's provenance.
    detections: the detector's outputs for ``records``, row for row
    (``engine.data.detector_cache.detections_for``, for renders whose records do not
    carry them); a detector-conditioned base then reads, and each pair keeps, the
    detector's keypoints and landmark tokens, as evaluation does. Without it each
    record's own landmarks are used (``tokens_of``: photos that came through the detector).
    A person whose image cannot be read is skipped with a warning; a person whose
    candidates are all within min_margin (log-odds) of each other gives no pair.
    Raises DataError (no records, detections of another length, or a scorer for
    another layout); JobCancelled.
    """
    if not records:
        raise DataError("pairs: no people to build pairs from")
    if detections is not None and len(detections) != len(records):
        raise DataError(f"pairs: {len(detections)} detector rows for {len(records)} people")
    if detections is None and getattr(base, "detector_inputs", False) and all(
            r.world_landmarks is None for r in records):
        log.warning("pairs: the base model reads the detector's landmarks and none of the %d people carry them; "
                    "every one is sampled as 'not found' (pass the dataset's detector cache)", len(records))
    if scorer.layout.dim != base.layout.dim:
        raise DataError(f"pairs: the scorer reads {scorer.layout.dim} parameters, the base model writes "
                        f"{base.layout.dim}")
    out: list[PreferencePair] = []
    cache_path, cache_image = None, None
    for i, record in enumerate(records):
        check_cancel(should_cancel)
        try:
            if record.image_path != cache_path:
                cache_image, cache_path = load_image(record.image_path), record.image_path
        except ImageError as exc:
            log.warning("pairs: skipped person %d: %s", i, exc)
            continue
        seed = config.seed + i
        settings = SampleSettings(num_candidates=config.num_candidates, steps=config.steps, seed=seed)
        assert cache_image is not None  # read above, or the person was skipped
        keypoints, landmarks = _person_inputs(record, detections, i, bool(getattr(base, "detector_inputs", False)))
        crop, sampled = sample_person(cache_image, record.box, keypoints, base, body, settings, scorer,
                                      with_vertices=False, landmarks=landmarks)
        assert sampled.scores is not None  # a scorer was given
        params, scores = sampled.params[0].numpy(), sampled.scores[0].numpy()
        person = record.source or f"{record.image_path}#{i}"
        for w, lo in select_pairs(scores, config):
            out.append(PreferencePair(
                image=record.image_path, crop_center=crop.center, crop_size=crop.size, keypoints=keypoints,
                winner=params[w], loser=params[lo], winner_score=float(scores[w]), loser_score=float(scores[lo]),
                source="auto", status="proposed", person=person,
                winner_key=f"{person}|seed{seed}|m{w}", loser_key=f"{person}|seed{seed}|m{lo}",
                winner_index=w, loser_index=lo, base_checkpoint=base_checkpoint,
                scorer_checkpoint=scorer_checkpoint, box=record.box, landmarks=landmarks))
        progress(ProgressEvent((i + 1) / len(records), f"{i + 1}/{len(records)} people, {len(out)} pairs",
                               {"pairs": float(len(out))}))
    return out


def _person_inputs(
    record: PersonSample, detections: DatasetDetections | None, i: int, detector_model: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """The keypoints (17, 3) px and landmark tokens (33, 6) or None that person ``i`` is
    sampled with. A detector-conditioned model reads the detector's keypoints, zeros
    where it found nobody (as in training, ``PersonCropDataset``), never the labels."""
    if detections is None:
        return record.keypoints, tokens_of(record)
    if not detections.found[i]:
        keypoints = np.zeros((17, 3), np.float32) if detector_model else record.keypoints
        return keypoints, landmark_tokens(None, None, None)
    tokens = landmark_tokens(detections.world_landmarks[i], detections.landmark_visibility[i],
                             detections.landmark_presence[i])
    return (detections.keypoints[i] if detector_model else record.keypoints), tokens
