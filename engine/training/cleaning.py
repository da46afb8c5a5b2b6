"""Cleaning a pseudo-labelled dataset with the HMR-Scorer (ADHMR, Sec. 5).

Each person's 3D pseudo-label (pose, shape, camera) is scored by the scorer as the one
candidate of its image; people are ranked by that score and a rule proposes which to
keep: the top ``keep_fraction`` (in (0, 1]) or those scoring at least ``threshold``.
The calls are records a person can override (``overrides``: index -> keep; in a
project, ``engine.store.set_cleaning_override``). The kept people are written in the
input file's own format (SPIN / ProHMR npz, COCO json), atomically.

:func:`finetune_subsets` fine-tunes the base model on several subsets (cleaned, full)
with the same budget, for the comparison the experiment reports.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import default_collate

from engine.body.camera_fit import fit_camera
from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import DatasetDetections, detections_for
from engine.data.records import PersonSample
from engine.errors import DataError
from engine.models.candidates import decode_candidates
from engine.params import check_fields, param
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

if TYPE_CHECKING:
    from engine.body.model import BodyModel
    from engine.models.scorer import HMRScorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleaningRule:
    """Keep the top ``keep_fraction`` (0 < f <= 1; the count rounded to nearest, at least
    one) by score, or every person scoring >= ``threshold``; exactly one is given."""

    keep_fraction: float | None = field(default=None, metadata=param(
        "share of the samples kept, best scores first (ignored when threshold is given)", gt=0, le=1))
    threshold: float | None = field(default=None, metadata=param("keep every sample scoring at least this instead"))

    def __post_init__(self) -> None:
        if (self.keep_fraction is None) == (self.threshold is None):
            raise DataError("cleaning: give exactly one of keep_fraction and threshold")
        check_fields(self, "cleaning")
        if self.threshold is not None and not math.isfinite(self.threshold):
            raise DataError(f"cleaning: threshold must be a finite number, got {self.threshold}")

    def describe(self) -> str:
        if self.keep_fraction is not None:
            return f"keep the top {self.keep_fraction:.0%}"
        return f"keep scores >= {self.threshold:g}"


def keep_mask(scores: np.ndarray, rule: CleaningRule) -> np.ndarray:
    """(N,) bool: the rule's call on scores (N,) (ties: the earlier person ranks higher)."""
    scores = np.asarray(scores, np.float64)
    if scores.ndim != 1 or not np.isfinite(scores).all():
        raise DataError("cleaning: scores must be a finite (N,) array")
    if rule.threshold is not None:
        return scores >= rule.threshold
    keep = np.zeros(len(scores), bool)
    assert rule.keep_fraction is not None  # CleaningRule holds exactly one of the two
    n = max(1, int(math.floor(rule.keep_fraction * len(scores) + 0.5))) if len(scores) else 0
    keep[np.argsort(-scores, kind="stable")[:n]] = True
    return keep


def apply_overrides(auto_keep: np.ndarray, overrides: Mapping[int, bool] | None) -> np.ndarray:
    """The final calls: the rule's, except where a person decided (index -> keep)."""
    keep = np.array(auto_keep, bool)
    for i, k in (overrides or {}).items():
        if not 0 <= int(i) < len(keep):
            raise DataError(f"cleaning: override for person {i}, but there are {len(keep)}")
        keep[int(i)] = bool(k)
    return keep


def detection_stats(keep: np.ndarray, corrupted: np.ndarray) -> dict[str, float]:
    """How well dropping caught corrupted labels: precision (dropped that were corrupted),
    recall (corrupted that were dropped), and the counts."""
    drop, bad = ~np.asarray(keep, bool), np.asarray(corrupted, bool)
    caught = int((drop & bad).sum())
    return {
        "dropped": int(drop.sum()), "corrupted": int(bad.sum()), "caught": caught,
        "precision": caught / drop.sum() if drop.any() else float("nan"),
        "recall": caught / bad.sum() if bad.any() else float("nan"),
    }


@torch.no_grad()
def score_labels(
    records: Sequence[PersonSample],
    scorer: HMRScorer,
    body: BodyModel,
    batch_size: int = 16,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    detections: DatasetDetections | None = None,
) -> np.ndarray:
    """The scorer's score (N,) float32 of each record's own 3D label (NaN without one).

    A label's camera is the record's, re-expressed for the scorer's crop; a record with
    a pose but no camera gets one fitted to its keypoints.
    detections: the detector's outputs for ``records``, row for row
    (``engine.data.detector_cache.detections_for``); a scorer with ``detector_inputs``
    then reads the detector's keypoints and landmarks, as on a photo (without it: what
    the records carry). Any other scorer ignores them.
    Raises DataError when no record has a label, or a detector-conditioned scorer has
    no detector outputs for any; JobCancelled between batches.
    """
    labelled = [i for i, r in enumerate(records) if r.pose is not None]
    if not labelled:
        raise DataError("cleaning: no person has a 3D label to score")
    if detections is not None and len(detections) != len(records):
        raise DataError(f"cleaning: {len(detections)} detector rows for {len(records)} people")
    conditioned = scorer.detector_inputs
    if conditioned:
        every = detections if detections is not None else DatasetDetections.from_records(records)
        detections = DatasetDetections(*(getattr(every, f.name)[labelled] for f in fields(DatasetDetections)))
        if not detections.found.any():
            # Scores of crops without keypoints or landmarks would rank nothing.
            raise DataError("cleaning: the scorer reads the detector's outputs, and no labelled person has "
                            "them (run `adhmr detect-dataset` on the file)")
    data = PersonCropDataset([records[i] for i in labelled], scorer.config.crop_size, train=False,
                             detections=detections if conditioned else None)
    layout = scorer.layout
    out = np.full(len(records), np.nan, np.float32)
    for start in range(0, len(labelled), batch_size):
        check_cancel(should_cancel)
        idx = range(start, min(start + batch_size, len(labelled)))
        batch = default_collate([data[i] for i in idx])
        betas = batch["betas"] * batch["has_betas"][:, None]
        cam = batch["camera"].clone()
        for k in torch.nonzero(batch["has_camera"] == 0).flatten().tolist():
            kp3d = body(batch["pose"][k : k + 1].to(body.device), betas[k : k + 1].to(body.device),
                        rotation_format="axis_angle").keypoints[0].cpu().numpy()
            fitted = fit_camera(kp3d, batch["keypoints"][k].numpy())
            cam[k] = torch.from_numpy(fitted) if fitted is not None else torch.tensor([0.9, 0.0, 0.0])
        params = layout.from_axis_angle(batch["pose"], betas, cam)[:, None]
        cands = decode_candidates(params, layout, body, batch["crop_center"], batch["crop_size"], with_vertices=False)
        # A detector-conditioned scorer reads what the detector saw, not the labelled keypoints.
        keypoints = batch["cond_keypoints"] if conditioned else batch["keypoints"]
        landmarks = batch["landmarks"].to(scorer.device) if conditioned else None
        scores = scorer.score_candidates(batch["image"].to(scorer.device), keypoints.to(scorer.device), cands,
                                         landmarks=landmarks)
        out[[labelled[i] for i in idx]] = scores[:, 0].cpu().numpy()
        progress(ProgressEvent(idx.stop / len(labelled), f"scored {idx.stop}/{len(labelled)} labels"))
    return out


@dataclass(frozen=True, eq=False)
class CleaningResult:
    """A cleaning pass over N people.

    scores: (N,) float32, NaN for people without a label (always kept).
    auto_keep: (N,) bool, the rule's call; keep: (N,) bool, after the overrides.
    overrides: index -> keep, the calls people made.
    """

    rule: CleaningRule
    scores: np.ndarray
    auto_keep: np.ndarray
    keep: np.ndarray
    overrides: dict[int, bool] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return int(self.keep.sum())

    def summary(self) -> dict[str, Any]:
        return {"rule": self.rule.describe(), "people": len(self.keep), "kept": self.kept,
                "dropped": len(self.keep) - self.kept, "overridden": len(self.overrides),
                "unscored": int(np.isnan(self.scores).sum())}


def decide(scores: np.ndarray, rule: CleaningRule, overrides: Mapping[int, bool] | None = None) -> CleaningResult:
    """The rule applied to the scored people (unscored ones kept), then the overrides."""
    scores = np.asarray(scores, np.float32)
    scored = ~np.isnan(scores)
    auto = np.ones(len(scores), bool)
    auto[scored] = keep_mask(scores[scored], rule)
    return CleaningResult(rule, scores, auto, apply_overrides(auto, overrides), dict(overrides or {}))


def write_decisions_csv(path: str | Path, result: CleaningResult, records: Sequence[PersonSample]) -> None:
    """One row per person, best score first: index, image, source, score, auto_keep,
    override, keep (atomic write)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    order = np.argsort(-np.nan_to_num(result.scores, nan=-np.inf), kind="stable")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "image", "source", "score", "auto_keep", "override", "keep"])
        for i in order:
            o = result.overrides.get(int(i))
            score = "" if np.isnan(result.scores[i]) else f"{result.scores[i]:.6g}"
            w.writerow([int(i), records[i].image_path, records[i].source, score, int(result.auto_keep[i]),
                        "" if o is None else int(o), int(result.keep[i])])
    os.replace(tmp, out)


def clean_file(
    data: str | Path,
    out: str | Path,
    rule: CleaningRule,
    scorer: str | Path | None = None,
    overrides: Mapping[int, bool] | None = None,
    decisions_csv: str | Path | None = None,
    device: str | None = None,
    body_model: str | Path | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> CleaningResult:
    """Score the pseudo-labels of an annotation file and write the kept people to ``out``
    in the input's format (overrides: row index -> keep).

    Raises DataError (unreadable file, no labels, bad rule, ``out`` is the input),
    CheckpointError; JobCancelled before anything is written.
    """
    from engine.body.model import BodyModel
    from engine.data.load import read_annotation_file, save_annotation_file
    from engine.models.scorer import HMRScorer
    from engine.devices import pick_device

    src, dst = Path(data), Path(out)
    if dst.absolute() == src.absolute():
        raise DataError(f"{dst}: the cleaned file must not replace its input")
    f = read_annotation_file(src)
    if not f.records:
        raise DataError(f"{src}: holds no people")
    dev = pick_device(device)
    body = BodyModel(body_model, device=dev)
    model = HMRScorer.load(scorer, body=body, device=dev)
    detections = detections_for(src, f.records) if model.detector_inputs else None
    scores = score_labels(f.records, model, body, progress=progress, should_cancel=should_cancel,
                          detections=detections)
    result = decide(scores, rule, overrides)
    check_cancel(should_cancel)
    kept = [r for r, k in zip(f.records, result.keep) if k]
    save_annotation_file(dst, kept, f.format, dict(f.file_extras))
    if decisions_csv is not None:
        write_decisions_csv(decisions_csv, result, f.records)
    log.info("cleaning %s: %s kept %d of %d", src, rule.describe(), result.kept, len(f.records))
    return result


def finetune_subsets(
    base: str | Path,
    subsets: Mapping[str, Sequence[PersonSample]],
    out_dir: str | Path,
    steps: int,
    batch_size: int = 16,
    lr: float = 1e-4,
    seed: int = 0,
    device: str = "auto",
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    source: str | Path | None = None,
) -> dict[str, Path]:
    """Fine-tune ``base`` on each subset with the same budget (steps x batch_size, lr,
    seed); returns name -> checkpoint weights (``out_dir/<name>``). A run stopped half
    way resumes from its state in ``out_dir`` (keep one out_dir per set of settings).
    source: the annotation file the subsets' people were read from; a
    detector-conditioned base reads the detector's outputs for them from its cache
    (``adhmr detect-dataset``; see ``train_dpo``'s sft_source)."""
    from engine.training.base_train import train_state_path
    from engine.training.dpo import DPOConfig
    from engine.training.dpo_train import train_dpo

    out: dict[str, Path] = {}
    names = list(subsets)
    for k, name in enumerate(names):
        def report(e: ProgressEvent, k: int = k, name: str = name) -> None:
            progress(ProgressEvent((k + e.fraction) / len(names), f"{name}: {e.message}", e.metrics))

        target = Path(out_dir) / name
        config = DPOConfig(out=str(target), base=str(base), mode="supervised", steps=steps,
                           batch_size=batch_size, lr=lr, seed=seed, device=device, save_every=max(1, steps // 4),
                           log_every=max(1, steps // 10), resume=train_state_path(target).is_file())
        out[name] = train_dpo(config, report, should_cancel, sft_records=list(subsets[name]), sft_source=source)
    return out
