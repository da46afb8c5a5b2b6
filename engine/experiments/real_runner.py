"""The real-footage track of ``adhmr experiment``: the paper's findings on Pose2Sim's recording.

Unlabelled pool = frames 0-59 of all four cameras; test = frames 60-99, each view
measured against the body triangulated from all four cameras (``real_data``), after
hip alignment on the 12 limb joints (``engine.multiview.evaluate.view_errors``):

1. Selection: the scorer's pick (Select) against the zero-noise hypothesis and the
   average hypothesis (Mean), MPJPE and PA-MPJPE.
2. DPO on scorer-built pairs from the pool's people (no 3D label anywhere) against the
   base model and the 2D-reprojection control, trained on the same pairs for the same
   steps (the synthetic track's code: ``runner._Context.finetune_pairs``' settings).
3. Cleaning: the body fit (``engine.fitting.fit_people``) gives each pool person a
   pseudo-label; fine-tuning on the scorer's top 80 % / 60 % of them against all of them.

Every number is measured on the test views, which nothing is tuned on (the recording
has no labelled frames to choose settings on, so DPO and fine-tuning use the synthetic
track's settings). Each seed draws its own candidates, pairs, training order and test
samples; stage results are kept in a work folder, so a stopped run resumes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.errors import DataError
from engine.experiments.budgets import RealBudget
from engine.experiments.real_data import RealData, load_reference, prepare_real_data
from engine.experiments.runner import (
    ExperimentConfig,
    Models,
    Stages,
    _head,
    _Results,
    _tail,
    load_models,
    model_settings,
    run_seed_stages,
    stage_times,
    work_stamp,
)
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

log = logging.getLogger(__name__)

METRICS = ("MPJPE", "PA-MPJPE")
EVAL_BATCH = 8


def run_real_experiment(
    config: ExperimentConfig, progress: ProgressFn = no_progress, should_cancel: CancelFn = never_cancel
) -> dict[str, Any]:
    """Run (or resume) the real track (``config.budget`` is a RealBudget); returns its
    findings (``real_report.build_real_findings``) and writes them into findings.md /
    findings.json in ``out_dir``, beside the synthetic track's findings already there.

    Raises DataError (the recording cannot be fetched or read, no test view kept), and
    whatever the stages raise (CheckpointError, JobCancelled, ...).
    """
    from engine.experiments.real_report import build_real_findings
    from engine.experiments.report_files import write_report
    from engine.multiview.pose2sim_demo import default_data_dir, demo_files, fetch_demo

    started = time.perf_counter()
    b = config.budget
    if not isinstance(b, RealBudget):
        raise DataError("experiment: the real track needs a real budget (get_real_budget)")
    calibration, videos = demo_files(Path(config.recording) if config.recording else fetch_demo(default_data_dir()))
    models = load_models(config)
    stamp = work_stamp(b, models.base_w, models.scorer_w)
    work = Path(config.cache_dir) / "runs" / f"real-{config.budget_name}-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    results = _Results(work / "results.json")
    run = Stages(results, 2 + b.seeds * (5 + len(b.keep_fractions)), progress, should_cancel).run

    data = run("data", "real data", lambda p: _data_dict(prepare_real_data(
        config.cache_dir, calibration, videos, b, progress=p, should_cancel=should_cancel)))
    data = RealData(Path(data["pool"]), Path(data["test"]), Path(data["reference"]), data["summary"])
    ctx = _RealContext(b, data, work, models, should_cancel)
    scores = run("clean_scores", "fitting and scoring pseudo-labels", ctx.clean_scores)
    run_seed_stages(run, ctx, models.base_w, scores, b.seeds, b.keep_fractions)
    settings = {
        "track": "real", "budget": config.budget_name, "budget_settings": b.to_dict(), **model_settings(models),
        "recording": str(calibration.parent.parent), "data": data.summary, "work": str(work),
        **stage_times(results.data, started),
    }
    findings = build_real_findings(results.data, b, settings)
    write_report(findings, Path(config.out_dir) if config.out_dir else work, "real")
    progress(ProgressEvent(1.0, "report written"))
    return findings


def _data_dict(data: RealData) -> dict[str, Any]:
    return {"pool": str(data.pool), "test": str(data.test), "reference": str(data.reference),
            "summary": data.summary}


class _RealContext:
    """What the real track's stages share: settings, data, loaded models."""

    def __init__(self, budget: RealBudget, data: RealData, work: Path, models: Models, should_cancel: CancelFn):
        self.b, self.data, self.work, self.m = budget, data, work, models
        self.should_cancel = should_cancel
        self._views: tuple[Any, torch.Tensor, np.ndarray] | None = None

    def evaluate(self, checkpoint: str | Path, seed: int, progress: ProgressFn) -> dict[str, Any]:
        """Zero-noise, Select, Mean and Min of ``eval_M`` hypotheses per test view (mm),
        and the scorer's per-view rank correlation with the errors.

        The views are sampled and scored in batches through the project's sampling entry
        point (``sample_and_score``), each read at the body's COCO-17 keypoints, as
        ``adhmr eval-multiview``'s diffusion method reads them; the batch starting at view
        i uses seed ``seed * 100000 + i`` (hypothesis 0, from zero noise, is the same for
        every seed)."""
        from engine.metrics import multi_hypothesis_report, ranking_correlation
        from engine.models.diffusion_hmr import DiffusionHMR
        from engine.models.sample_and_score import PersonCrops, sample_and_score
        from engine.models.sample_settings import SampleSettings
        from engine.multiview.evaluate import view_errors
        from engine.multiview.joints import to_eval12

        m, M = self.m, self.b.eval_M
        model = m.base if Path(checkpoint) == m.base_w else DiffusionHMR.load(checkpoint, body=m.body,
                                                                               device=m.device)
        crops, scorer_images, references = self._test_views()
        n = len(references)
        errors = np.zeros((2, n, M))
        scores = np.zeros((n, M))
        for i in range(0, n, EVAL_BATCH):
            check_cancel(self.should_cancel)
            k = slice(i, min(i + EVAL_BATCH, n))
            batch = PersonCrops(crops.images[k], crops.keypoints[k], crops.crop_center[k], crops.crop_size[k],
                                crops.landmarks[k])
            settings = SampleSettings(num_candidates=M, seed=seed * 100_000 + i, device=str(m.device))
            sampled = sample_and_score(model, m.body, batch, settings, m.scorer, scorer_images[k], with_vertices=False)
            assert sampled.candidates is not None and sampled.scores is not None  # kept and scored
            hypotheses = to_eval12(sampled.candidates.keypoints3d.numpy())
            for j, view in enumerate(range(k.start, k.stop)):
                errors[:, view] = view_errors(hypotheses[j], references[view])
            scores[k] = sampled.scores.numpy()
            progress(ProgressEvent(k.stop / n, f"{k.stop}/{n} views"))
        table = dict(zip(METRICS, errors))
        report = multi_hypothesis_report(table, scores, top_k=1, zero_index=0)
        correlation = {k: asdict(ranking_correlation(scores, v)) for k, v in table.items()} if M > 1 else {}
        return {"report": report.to_dict(), "correlation": correlation, "num_views": n}

    def _test_views(self) -> tuple[Any, torch.Tensor, np.ndarray]:
        """The test views' crops at the base model's size (with the detector's keypoints
        and landmark tokens), at the scorer's size, and their (N, 12, 3) references; cut
        once per run (every fine-tuned model keeps the base model's crop size)."""
        if self._views is None:
            from engine.data.landmark_tokens import tokens_of
            from engine.image_io import load_image
            from engine.models.sample_and_score import PersonCrops, crop_person

            records, references = load_reference(self.data)
            base, scorer = [], []
            for r in records:
                image = load_image(r.image_path)
                base.append(crop_person(image, r.box, r.keypoints, self.m.base.crop_size, tokens_of(r))[1])
                scorer.append(crop_person(image, r.box, r.keypoints, self.m.scorer.crop_size)[1].images)
            crops = PersonCrops(*(torch.cat([getattr(c, f) for c in base]) for f in
                                  ("images", "keypoints", "crop_center", "crop_size", "landmarks")))
            self._views = (crops, torch.cat(scorer), references)
        return self._views

    def pairs(self, seed: int, progress: ProgressFn) -> dict[str, Any]:
        """Pairs from the pool's people; each carries its own detector outputs."""
        from engine.data.load import load_dataset
        from engine.training.pair_io import save_pairs
        from engine.training.pairs import PairConfig, build_pairs

        b, m = self.b, self.m
        records = load_dataset(self.data.pool).records
        config = PairConfig(num_candidates=b.pair_candidates, pairs_per_image=b.pairs_per_image, top_k=b.top_k,
                            bottom_k=b.bottom_k, min_margin=b.min_margin, seed=seed * 100_000)
        pairs = build_pairs(records, m.base, m.scorer, m.body, config, str(m.base_w), str(m.scorer_w), progress,
                            self.should_cancel)
        path = self.work / f"seed{seed}" / "pairs.jsonl"
        save_pairs(path, pairs)
        margins = [p.margin for p in pairs if p.margin is not None]
        return {"path": str(path), "count": len(pairs), "images": len(records),
                "mean_margin": float(np.mean(margins)) if margins else None}

    def finetune_pairs(self, mode: str, seed: int, progress: ProgressFn) -> dict[str, Any]:
        """DPO (or its reprojection control) on the seed's pairs, then the test views."""
        from engine.experiments.dpo_stage import train_on_pairs

        m, work = self.m, self.work / f"seed{seed}"
        weights, last = train_on_pairs(work / mode, str(m.base_w), work / "pairs.jsonl", mode, self.b, seed,
                                       str(m.device), progress, self.should_cancel)
        return {"checkpoint": str(weights), "train": last, "test": self.evaluate(weights, seed, _tail(progress, 0.8))}

    def clean_scores(self, progress: ProgressFn) -> dict[str, Any]:
        """Fit a pseudo-label to every pool person (written beside the work folder's
        results as pseudo/annotations.npz) and score each with the scorer."""
        from engine.data.augment import camera_for_crop
        from engine.data.load import load_dataset, save_annotation_file
        from engine.fitting import fit_people
        from engine.models.param_layout import ParamLayout
        from engine.training.cleaning import score_labels

        m = self.m
        records = load_dataset(self.data.pool).records
        fit = fit_people(np.stack([r.keypoints for r in records]), np.stack([r.box for r in records]), m.body,
                         world_landmarks=np.stack([np.asarray(r.world_landmarks) for r in records]),
                         should_cancel=self.should_cancel)
        progress(ProgressEvent(0.5, f"fitted {len(records)} people"))
        pose, betas, cam = (t.numpy() for t in ParamLayout().to_axis_angle(fit.result.params.cpu()))
        labelled = []
        for i, r in enumerate(records):
            # The fit's camera is for its own square crop; a record's is for the square on its box.
            centre, side = r.crop_square
            camera = camera_for_crop(cam[i], fit.crop_center[i], float(fit.crop_size[i]), centre, side)
            labelled.append(r.replace(pose=pose[i], betas=betas[i], camera=camera, label_kind="pseudo"))
        path = self.work / "pseudo" / "annotations.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_annotation_file(path, labelled)
        scores = score_labels(labelled, m.scorer, m.body, progress=_tail(progress, 0.5),
                              should_cancel=self.should_cancel)
        reprojection = fit.result.reprojection.cpu().numpy() * fit.crop_size / 2
        return {"path": str(path), "scores": [float(s) for s in scores],
                "fit_reprojection_px": float(np.mean(reprojection))}

    def finetune_clean(self, name: str, fraction: float, scores: dict[str, Any], seed: int,
                       progress: ProgressFn) -> dict[str, Any]:
        """Fine-tune on the scorer's top ``fraction`` of the pseudo-labels, then the test views."""
        from engine.data.load import load_dataset
        from engine.training.cleaning import CleaningRule, decide, finetune_subsets

        b, m = self.b, self.m
        records = load_dataset(scores["path"]).records
        s = np.array(scores["scores"], np.float32)
        keep = np.ones(len(records), bool) if fraction >= 1.0 else decide(s, CleaningRule(keep_fraction=fraction)).keep
        subset = [r for r, k in zip(records, keep) if k]
        ckpt = finetune_subsets(m.base_w, {name: subset}, self.work / f"seed{seed}" / "clean", b.clean_steps,
                                b.clean_batch, b.clean_lr, seed, str(m.device), _head(progress, 0.7),
                                self.should_cancel)[name]
        return {"checkpoint": str(ckpt), "kept": int(keep.sum()),
                "test": self.evaluate(ckpt, seed, _tail(progress, 0.7))}
