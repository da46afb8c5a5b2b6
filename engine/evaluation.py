"""Evaluate a base model (and a scorer) on labelled images: the multi-hypothesis report.

For each labelled person: sample M hypotheses with the base model (hypothesis 0 from zero
noise), decode them with meshes, score them, and measure MPJPE, PA-MPJPE and PVE against
the ground truth. The report has four rows (Min, Select, Zero-noise, Mean, see
``engine.metrics.multi_hypothesis_report``), a mean-pose baseline row, and how well the
scorer's scores rank the hypotheses (Spearman / Pearson, per image, averaged), and how
well it ranks a fixed mix of ground truth, noisy copies and base samples on the same
people (``engine.training.scorer_eval``).

Mean-pose baseline: the training-set mean parameter vector (the base checkpoint's
Normalizer mean; its 6D rotations are made orthonormal when decoded), the same for every
person. It takes the camera of the zero-noise hypothesis so that it lines up with the
image, but the camera never enters the numbers: every metric is pelvis-aligned (and
PA-MPJPE also rotation- and scale-aligned), so the baseline measures what the model
learned beyond "the average person in the average pose".
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import default_collate

from engine.body.model import BodyModel
from engine.data.dataset import PersonCropDataset
from engine.data.detector_cache import detections_matching, ensure_detections
from engine.devices import pick_device
from engine.errors import DataError, ShapeError
from engine.fitting import fit_crops
from engine.metrics import HypothesisReport, multi_hypothesis_report, ranking_correlation
from engine.models.candidates import Candidates, decode_candidates
from engine.models.diffusion_hmr import DiffusionHMR
from engine.models.sample_and_score import PersonCrops, sample_and_score
from engine.models.sample_settings import SampleSettings
from engine.models.scorer import HMRScorer
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.training.candidate_noise import ERROR_NAMES, candidate_errors
from engine.training.dpo import DPOConfig
from engine.training.scorer_data import BaseSampler, labelled_records
from engine.training.scorer_eval import mixed_candidate_correlation

log = logging.getLogger(__name__)

BASELINE_CAMERA = "zero-noise hypothesis"


@dataclass(frozen=True)
class EvalResult:
    """What ``adhmr eval`` reports.

    report: the four-way table (mm); no Select row without a scorer.
    baseline: {metric: mm} of the mean-pose baseline.
    correlation: {metric: {'srcc', 'plcc', 'srcc_global', 'plcc_global', 'num_images'}}
        of the scores against each error; empty without a scorer or with M < 2.
    mixed_correlation: {metric: {'srcc', 'plcc'}} on the mixed candidate protocol; empty
        without a scorer, or when the people have no camera labels.
    settings: checkpoints, data, num_candidates, steps, top_k, seed, number of images.
    errors: {metric: (N, M) mm} every hypothesis's error, for analyses (not in the JSON).
    logits: (N, M) the scorer network's logits and sibling_mm: (N, M) each hypothesis's
        mean PA distance to the others of its person, mm (None without a scorer; not in
        the JSON), from which the scores are made (``HMRScorer.scores_from_logits``).
    """

    report: HypothesisReport
    baseline: dict[str, float]
    correlation: dict[str, dict[str, float]]
    settings: dict[str, Any]
    mixed_correlation: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    logits: np.ndarray | None = field(default=None, repr=False)
    sibling_mm: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: undefined correlations (constant scores or errors) become None."""
        correlation = {
            metric: {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in c.items()}
            for metric, c in self.correlation.items()
        }
        return {
            "report": self.report.to_dict(),
            "baseline": dict(self.baseline, camera=BASELINE_CAMERA),
            "scorer_correlation": correlation,
            "scorer_correlation_mixed": self.mixed_correlation,
            "settings": self.settings,
        }

    def to_markdown(self, decimals: int = 1) -> str:
        """The report table plus the baseline row, then the scorer's correlations."""
        lines = [self.report.to_markdown(decimals)]
        cells = " | ".join(f"{self.baseline[m]:.{decimals}f}" for m in self.report.metrics)
        lines.append(f"| Mean pose (baseline) | {cells} |")
        if self.correlation:
            mixed = self.mixed_correlation
            head = "| scorer vs | SRCC | PLCC |" + (" SRCC, mixed | PLCC, mixed |" if mixed else "")
            lines += ["", head, "|---|---:|---:|" + ("---:|---:|" if mixed else "")]
            for metric, c in self.correlation.items():
                row = f"| {metric} | {c['srcc']:.3f} | {c['plcc']:.3f} |"
                if metric in mixed:
                    row += f" {mixed[metric]['srcc']:.3f} | {mixed[metric]['plcc']:.3f} |"
                lines.append(row)
            weight = self.settings.get("consensus_weight")
            consensus = f", with the consensus term ({weight:g} per mm)" if weight else ""
            note = "; mixed: ground truth + 7 noisy copies + 8 samples, each scored on its own" if mixed else ""
            fit = " and the fit" if self.settings.get("with_fit") else ""
            lines.append(f"(per image: among the {self.settings['num_candidates']} samples{fit}{consensus}{note})")
        s = self.settings
        fit = f" + the fit (samples started at {s['fit_start']:g})" if s.get("with_fit") else ""
        lines += ["", f"{s['num_images']} people, M = {s['num_candidates']} hypotheses{fit}, {s['steps']} DDIM steps, "
                      f"seed {s['seed']}"]
        return "\n".join(lines)


def _mean_pose(base: DiffusionHMR, zero_noise_params: torch.Tensor) -> torch.Tensor:
    """(B, D) raw: the Normalizer mean with each person's zero-noise camera."""
    mean = torch.as_tensor(base.normalizer.mean, dtype=torch.float32).expand_as(zero_noise_params).clone()
    cam = base.layout.dim - base.layout.cam_dim
    mean[:, cam:] = zero_noise_params[:, cam:].cpu()
    return mean


def evaluate(
    base_ckpt: str | Path | None,
    scorer_ckpt: str | Path | None,
    data_npz: str | Path,
    settings: SampleSettings = SampleSettings(),
    top_k: int = 1,
    max_images: int | None = None,
    batch_size: int = 8,
    body_model: str | Path | None = None,
    use_scorer: bool = True,
    mixed: bool = True,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
    with_fit: bool = False,
) -> EvalResult:
    """Evaluate a base checkpoint and a scorer (None = the default checkpoints).

    use_scorer: False leaves the scorer out (no Select row, no correlations).
    mixed: also measure the scorer on the mixed candidate protocol (needs camera labels).
    data_npz: labelled people (SMPL pose; betas where known, else the average shape).
    settings: num_candidates M per person (the scorer's correlations need M >= 2), steps,
        precision, device; consensus ranks each person's hypotheses with the scorer's
        sample-consensus term (``engine.models.consensus``), False measures the scorer's
        network alone; seed: the batch starting at person i uses seed + i, so results
        depend on seed and batch_size, not on chunk_size.
    top_k: how many top-scored hypotheses the Select row averages.
    max_images: evaluate only the first this many people.
    with_fit: fit the body to each person's detected evidence (``engine.fitting.fit_crops``)
        and add it as the last hypothesis, as ``adhmr sample`` does; the samples start from
        it at ``settings.fit_start`` (0: from noise).

    Raises:
        CheckpointError, DataError, ShapeError; JobCancelled when ``should_cancel``.
    """
    M = settings.num_candidates
    if not 1 <= top_k <= M:
        raise ShapeError(f"eval: top_k must be in [1, M={M}], got {top_k}")
    if max_images is not None and max_images < 1:
        raise ShapeError(f"eval: max_images must be at least 1, got {max_images}")
    dev = pick_device(settings.device)
    body = BodyModel(body_model, device=dev)
    base = DiffusionHMR.load(base_ckpt, body=body, device=dev)
    scorer = HMRScorer.load(scorer_ckpt, body=body, device=dev) if use_scorer else None
    records = labelled_records(str(data_npz), need_camera=False)[:max_images]
    # The scorer reads the same region at its own resolution, as everywhere else in the
    # product; upsampling the base model's smaller crop would hide detail it was trained on.
    scorer_size = scorer.config.crop_size if scorer is not None else None
    wants_detector = base.detector_inputs or bool(getattr(scorer, "detector_inputs", False))
    if wants_detector or with_fit:
        ensure_detections(data_npz, lambda e: progress(ProgressEvent(0.0, f"detecting: {e.message}")),
                          should_cancel)
    dataset = PersonCropDataset(records, base.crop_size, train=False,
                                also_sizes=(scorer_size,) if scorer_size not in (None, base.crop_size) else (),
                                detections=detections_matching(data_npz, records) if wants_detector or with_fit else None)
    per_batch = max(1, batch_size)
    errors: dict[str, list[np.ndarray]] = {k: [] for k in ERROR_NAMES}
    baseline: dict[str, list[np.ndarray]] = {k: [] for k in ERROR_NAMES}
    scores: list[np.ndarray] = []
    logits: list[np.ndarray] = []
    siblings: list[np.ndarray] = []
    for i in range(0, len(dataset), per_batch):
        check_cancel(should_cancel)
        batch = default_collate([dataset[k] for k in range(i, min(i + per_batch, len(dataset)))])
        # A detector-conditioned model reads what the detector saw, not the labelled keypoints.
        crops = PersonCrops(batch["image"], batch["cond_keypoints"] if wants_detector else batch["keypoints"],
                            batch["crop_center"], batch["crop_size"], batch.get("landmarks"))
        betas = (batch["betas"] * batch["has_betas"][:, None]).to(dev)
        with torch.no_grad():
            truth = body(batch["pose"].to(dev), betas, rotation_format="axis_angle")
            scorer_images = None
            if scorer_size is not None:
                scorer_images = batch.get(f"image_{scorer_size}", batch["image"])
            parts: dict[str, list[torch.Tensor]] = {k: [] for k in ERROR_NAMES}

            def measure(cands: Candidates) -> None:
                assert cands.vertices is not None and truth.vertices is not None  # decoded with meshes
                for k, v in candidate_errors(cands.joints, cands.vertices, truth.joints.cpu(),
                                             truth.vertices.cpu()).items():
                    parts[k].append(v)

            # The fit reads what the detector saw, whatever the models read.
            fits = fit_crops(batch["cond_keypoints"], batch.get("landmarks"), body).cpu() if with_fit else None
            sampled = sample_and_score(base, body, crops, replace(settings, seed=settings.seed + i), scorer,
                                       scorer_images, keep_candidates=False, on_chunk=measure,
                                       extra_params=None if fits is None else fits[:, None], start_params=fits)
            batch_errors = {k: torch.cat(v, dim=1).numpy() for k, v in parts.items()}
            mean = decode_candidates(_mean_pose(base, sampled.params[:, 0])[:, None], base.layout, body,
                                     batch["crop_center"], batch["crop_size"])
            assert mean.vertices is not None and truth.vertices is not None
            base_err = candidate_errors(mean.joints, mean.vertices, truth.joints.cpu(), truth.vertices.cpu())
        for k in ERROR_NAMES:
            errors[k].append(batch_errors[k])
            baseline[k].append(base_err[k][:, 0].numpy())
        if sampled.scores is not None:
            assert sampled.logits is not None and sampled.sibling_mm is not None  # set with the scores
            scores.append(sampled.scores.numpy())
            logits.append(sampled.logits.numpy())
            siblings.append(sampled.sibling_mm.numpy())
        done = min(i + per_batch, len(dataset))
        progress(ProgressEvent(done / len(dataset), f"{done}/{len(dataset)} people"))

    table = {k: np.concatenate(v) for k, v in errors.items()}
    score_table = np.concatenate(scores) if scores else None
    report = multi_hypothesis_report(table, score_table, top_k=top_k, zero_index=0)
    correlation = {}
    if score_table is not None and M >= 2:
        for k in ERROR_NAMES:
            correlation[k] = asdict(ranking_correlation(score_table, table[k]))
    mixed_correlation: dict[str, dict[str, float]] = {}
    if scorer is not None and mixed:
        check_cancel(should_cancel)
        progress(ProgressEvent(1.0, "scoring the mixed candidates"))
        try:
            mixed_correlation = mixed_candidate_correlation(
                scorer, BaseSampler(base), body, data_npz, max_images=max_images, seed=settings.seed,
                batch_size=per_batch)
        except DataError as exc:
            log.info("no mixed-candidate correlation: %s", exc)
    recorded = {
        "base": str(base_ckpt) if base_ckpt is not None else "default",
        "scorer": (str(scorer_ckpt) if scorer_ckpt is not None else "default") if use_scorer else None,
        "consensus_weight": scorer.consensus_weight if scorer is not None and settings.consensus else None,
        "data": str(data_npz), "num_candidates": M, "steps": settings.steps, "top_k": top_k, "seed": settings.seed,
        "guidance_scale": settings.guidance_scale, "guidance_world": settings.guidance_world,
        "orient": settings.orient, "num_images": len(dataset), "with_fit": with_fit,
        "fit_start": settings.fit_start if with_fit else None,
    }
    return EvalResult(report, {k: float(np.concatenate(v).mean()) for k, v in baseline.items()}, correlation, recorded,
                      mixed_correlation, table, np.concatenate(logits) if logits else None,
                      np.concatenate(siblings) if siblings else None)


def flat_metrics(result: EvalResult, prefix: str = "eval") -> dict[str, float]:
    """{'eval_<Row>_<metric>': mm} for each row (Min, Select, Zero-noise, Mean) and metric
    (MPJPE, PA-MPJPE, PVE) of an evaluation."""
    out = {}
    for row, values in result.report.to_dict().items():
        for metric, v in values.items():
            out[f"{prefix}_{row}_{metric}"] = float(v)
    return out


def evaluate_dpo_checkpoint(config: DPOConfig) -> dict[str, float]:
    """Held-out evaluation during fine-tuning (``train_dpo``'s evaluator): the checkpoint
    saved at ``config.out`` on ``config.eval_data`` (its first ``eval_images`` people,
    ``eval_num_candidates`` hypotheses, the Select row when ``config.scorer`` is set), as flat metrics."""
    if config.eval_data is None:
        raise DataError(f"{config.out}: no eval_data to evaluate the checkpoint on")
    settings = SampleSettings(num_candidates=config.eval_num_candidates, seed=config.seed, device=config.device)
    result = evaluate(config.out, config.scorer, config.eval_data, settings, max_images=config.eval_images,
                      use_scorer=config.scorer is not None)
    return flat_metrics(result)
