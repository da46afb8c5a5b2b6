"""``adhmr experiment``: the paper's three findings, in miniature, on synthetic wild data.

1. Scorer selection: on wild test people, the scorer's pick (Select) has lower errors
   than the zero-noise hypothesis and than the average hypothesis (Mean).
2. DPO without 3D labels: fine-tuning the studio-trained base model with scorer-built
   pairs from unlabelled wild images lowers its test error (Zero-noise and Select),
   compared with the base model and with a control fine-tuned on the same images and
   candidates, for the same steps, with a plain 2D-keypoint reprojection loss.
3. Data cleaning: fine-tuning on the scorer's top 80 % (and 60 %) of a pseudo-labelled
   set with corrupted labels beats fine-tuning on all of it; how many corrupted labels
   the scorer caught (precision / recall of the dropped ones).

Every number is measured on the test set, which nothing is tuned on; the validation set
is only logged. Each replicate (seed) draws its own candidates, pairs, training order
and evaluation samples. Stage results are kept in a work folder, so a stopped run
resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from engine.errors import DataError
from engine.experiments.budgets import Budget, RealBudget
from engine.experiments.data import ExperimentData, prepare_data
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress

if TYPE_CHECKING:
    from engine.body.model import BodyModel
    from engine.models.diffusion_hmr import DiffusionHMR
    from engine.models.scorer import HMRScorer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExperimentConfig:
    """budget: a Budget (synthetic track) or a RealBudget (real track).
    base / scorer: checkpoints (None: resources/checkpoints). cache_dir: the tracks' data
    and work folders. out_dir: where findings.md / findings.json go (None: the work
    folder). device: torch device for models ('auto': CUDA when available).
    recording: the real track's Pose2Sim ``Demo_SinglePerson`` folder (None: fetched into
    the user cache, ``engine.multiview.pose2sim_demo``)."""

    budget: Budget | RealBudget
    budget_name: str = "custom"
    base: str | None = None
    scorer: str | None = None
    cache_dir: str = "data/experiment"
    out_dir: str | None = None
    device: str = "auto"
    workers: int = 1
    recording: str | None = None


def work_stamp(budget: Any, base_weights: Path, scorer_weights: Path) -> str:
    """Names the work folder whose stage results a run may reuse: the budget and both
    checkpoints, weights and JSON config (the config holds what changes a scorer's
    rankings without touching its weights, such as its consensus weight)."""
    files = [base_weights, base_weights.with_suffix(".json"), scorer_weights, scorer_weights.with_suffix(".json")]
    payload = [budget.to_dict()] + [_file_digest(f) if f.is_file() else None for f in files]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:10]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


class _Results:
    """Stage results kept as JSON in the work folder (written after every stage)."""

    def __init__(self, path: Path):
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}

    def get_or_run(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self.data:
            started, cpu = time.perf_counter(), time.process_time()
            value = fn()
            self.data[key] = value
            self.data.setdefault("_seconds", {})[key] = round(time.perf_counter() - started, 1)
            # CPU time (all of the process's threads): the stage's cost on a busy machine too.
            self.data.setdefault("_cpu_seconds", {})[key] = round(time.process_time() - cpu, 1)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(self.data, indent=1))
            os.replace(tmp, self.path)
        return self.data[key]


class Stages:
    """Runs named stages once, keeping each result in ``results`` (a stopped run resumes)
    and reporting each stage's progress as its share of ``total`` stages."""

    def __init__(self, results: _Results, total: int, progress: ProgressFn, should_cancel: CancelFn):
        self.results, self.total, self.progress, self.should_cancel = results, total, progress, should_cancel
        self.count = 0

    def run(self, key: str, message: str, fn: Callable[[ProgressFn], Any]) -> Any:
        start = self.count
        self.count += 1
        check_cancel(self.should_cancel)

        def report(e: ProgressEvent) -> None:
            self.progress(ProgressEvent((start + e.fraction) / self.total, f"{message}: {e.message}", e.metrics))

        report(ProgressEvent(0.0, "starting"))
        return self.results.get_or_run(key, lambda: fn(report))


@dataclass(frozen=True, eq=False)
class Models:
    """The experiment's base model and scorer, their weight files, the body model and device."""

    base_w: Path
    scorer_w: Path
    base: DiffusionHMR
    scorer: HMRScorer
    body: BodyModel
    device: torch.device


def load_models(config: ExperimentConfig) -> Models:
    from engine.body.model import BodyModel
    from engine.devices import pick_device
    from engine.models.checkpoint import checkpoint_paths
    from engine.models.diffusion_hmr import DEFAULT_CHECKPOINT, DiffusionHMR
    from engine.models.scorer import DEFAULT_SCORER_PATH, HMRScorer

    base_w = checkpoint_paths(config.base or DEFAULT_CHECKPOINT)[0]
    scorer_w = checkpoint_paths(config.scorer or DEFAULT_SCORER_PATH)[0]
    dev = pick_device(config.device)
    body = BodyModel(device=dev)
    return Models(base_w, scorer_w, DiffusionHMR.load(base_w, body=body, device=dev),
                  HMRScorer.load(scorer_w, body=body, device=dev), body, dev)


def model_settings(models: Models) -> dict[str, Any]:
    """What a report says about the models."""
    return {"base": _shown(models.base_w), "scorer": _shown(models.scorer_w),
            "base_sha256": _file_digest(models.base_w), "scorer_sha256": _file_digest(models.scorer_w),
            "base_training": models.base.config.get("training", {}).get("step"), "device": str(models.device),
            "detector_inputs": bool(models.base.detector_inputs)}


def run_experiment(
    config: ExperimentConfig, progress: ProgressFn = no_progress, should_cancel: CancelFn = never_cancel
) -> dict[str, Any]:
    """Run (or resume) the experiment; returns the findings (see ``report.build_findings``)
    and writes findings.md / findings.json into ``out_dir`` (keeping the real track's
    findings already there)."""
    from engine.experiments.report import build_findings
    from engine.experiments.report_files import write_report

    started = time.perf_counter()
    b = config.budget
    if not isinstance(b, Budget):
        raise DataError("experiment: the synthetic track needs a synthetic budget (get_budget)")
    models = load_models(config)
    base_w, scorer_w, base, scorer, body, dev = (models.base_w, models.scorer_w, models.base, models.scorer,
                                                 models.body, models.device)
    work = Path(config.cache_dir) / "runs" / f"{config.budget_name}-{work_stamp(b, base_w, scorer_w)}"
    work.mkdir(parents=True, exist_ok=True)
    results = _Results(work / "results.json")
    run = Stages(results, 2 + b.seeds * (5 + len(b.keep_fractions)), progress, should_cancel).run

    # Its own key since the sets gained detector caches: a work folder from before renders
    # nothing again, but writes them.
    data = run("data+detector", "data", lambda p: {k: str(v) for k, v in vars(
        prepare_data(config.cache_dir, b, config.workers, p, should_cancel)).items()})
    data = ExperimentData(**{k: Path(v) for k, v in data.items()})
    ctx = _Context(config, data, work, base_w, scorer_w, base, scorer, body, dev, should_cancel)
    scores = run("clean_scores", "scoring pseudo-labels", ctx.clean_scores)
    run_seed_stages(run, ctx, str(base_w), scores, b.seeds, b.keep_fractions)
    settings = {
        "budget": config.budget_name, "budget_settings": b.to_dict(), **model_settings(models),
        "data": {k: str(v) for k, v in vars(data).items()}, "work": str(work), **stage_times(results.data, started),
    }
    findings = build_findings(results.data, b, settings)
    write_report(findings, Path(config.out_dir) if config.out_dir else work, "synthetic")
    progress(ProgressEvent(1.0, "report written"))
    return findings


class _Context:
    """What the stages share: settings, data, loaded models."""

    def __init__(self, config: ExperimentConfig, data: ExperimentData, work: Path, base_w: Path, scorer_w: Path,
                 base: DiffusionHMR, scorer: HMRScorer, body: BodyModel, device: torch.device,
                 should_cancel: CancelFn):
        assert isinstance(config.budget, Budget)  # run_experiment refuses any other
        self.config, self.b, self.data, self.work = config, config.budget, data, work
        self.base_w, self.scorer_w = base_w, scorer_w
        self.base, self.scorer, self.body, self.device = base, scorer, body, device
        self.should_cancel = should_cancel

    def evaluate(self, checkpoint: str, seed: int, progress: ProgressFn) -> dict[str, Any]:
        from engine.evaluation import evaluate
        from engine.models.sample_settings import SampleSettings

        settings = SampleSettings(num_candidates=self.b.eval_M, seed=seed, device=str(self.device))
        result = evaluate(checkpoint, str(self.scorer_w), self.data.test, settings, progress=progress,
                          should_cancel=self.should_cancel)
        return {"report": result.report.to_dict(), "baseline": result.baseline,
                "correlation": result.to_dict()["scorer_correlation"], "num_images": result.settings["num_images"]}

    def pairs(self, seed: int, progress: ProgressFn) -> dict[str, Any]:
        from engine.data.detector_cache import detections_for
        from engine.data.load import load_dataset
        from engine.training.pair_io import save_pairs
        from engine.training.pairs import PairConfig, build_pairs

        b = self.b
        records = load_dataset(self.data.pool).records
        detections = detections_for(self.data.pool, records)
        # The pool's labels exist (it is synthetic) but pairs never look at them.
        unlabelled = [r.replace(pose=None, betas=None, camera=None, joints3d=None, label_kind=None) for r in records]
        config = PairConfig(num_candidates=b.pair_candidates, pairs_per_image=b.pairs_per_image, top_k=b.top_k,
                            bottom_k=b.bottom_k, min_margin=b.min_margin, seed=seed * 100_000)
        pairs = build_pairs(unlabelled, self.base, self.scorer, self.body, config, str(self.base_w),
                            str(self.scorer_w), progress, self.should_cancel, detections=detections)
        path = self.work / f"seed{seed}" / "pairs.jsonl"
        save_pairs(path, pairs)
        margins = [p.margin for p in pairs if p.margin is not None]
        return {"path": str(path), "count": len(pairs), "images": len(records),
                "mean_margin": float(np.mean(margins)) if margins else None, **self._pair_truth(pairs, records)}

    @torch.no_grad()
    def _pair_truth(self, pairs: list, records: list) -> dict[str, float | None]:
        """Diagnostic only (training never sees the pool's labels): the share of pairs
        whose winner is truly closer (MPJPE) to the person than its loser, and the mean
        MPJPE (mm) of winners and of losers."""
        from engine.metrics import mpjpe

        if not pairs:
            return {"truly_better": None, "winner_mpjpe": None, "loser_mpjpe": None}
        by_image = {r.image_path: r for r in records}
        layout = self.base.layout
        truth = [by_image[p.image] for p in pairs]
        pose = torch.tensor(np.stack([r.pose for r in truth]), device=self.body.device)
        betas = torch.tensor(np.stack([r.betas for r in truth]), device=self.body.device)
        gt = self.body(pose, betas, rotation_format="axis_angle").joints.cpu()
        errors = []
        for side in ("winner", "loser"):
            rot, betas, _ = layout.split(torch.tensor(np.stack([getattr(p, side) for p in pairs])))
            errors.append(mpjpe(self.body(rot.to(self.body.device), betas.to(self.body.device)).joints.cpu(), gt))
        w, lo = errors
        return {"truly_better": float((w < lo).float().mean()), "winner_mpjpe": float(w.mean()),
                "loser_mpjpe": float(lo.mean())}

    def finetune_pairs(self, mode: str, seed: int, progress: ProgressFn) -> dict[str, Any]:
        from engine.evaluation import evaluate_dpo_checkpoint
        from engine.experiments.dpo_stage import train_on_pairs

        b, work = self.b, self.work / f"seed{seed}"
        weights, last = train_on_pairs(
            work / mode, str(self.base_w), work / "pairs.jsonl", mode, b, seed, str(self.device), progress,
            self.should_cancel, evaluator=evaluate_dpo_checkpoint, eval_data=str(self.data.val),
            eval_images=b.val_images, eval_num_candidates=b.eval_M, scorer=str(self.scorer_w))
        test = self.evaluate(str(weights), seed, _tail(progress, 0.8))
        return {"checkpoint": str(weights), "train": last, "test": test}

    def clean_scores(self, progress: ProgressFn) -> dict[str, Any]:
        from engine.data.detector_cache import detections_for
        from engine.data.load import load_dataset
        from engine.training.cleaning import score_labels

        records = load_dataset(self.data.pseudo).records
        scores = score_labels(records, self.scorer, self.body, progress=progress, should_cancel=self.should_cancel,
                              detections=detections_for(self.data.pseudo, records))
        corrupted = [bool(r.extra["is_corrupted"]) if "is_corrupted" in r.extra else False for r in records]
        kinds = [str(r.extra["corruption_kind"]) if "corruption_kind" in r.extra else "" for r in records]
        return {"scores": [float(s) for s in scores], "corrupted": corrupted, "kinds": kinds}

    def finetune_clean(self, name: str, fraction: float, scores: dict[str, Any], seed: int,
                       progress: ProgressFn) -> dict[str, Any]:
        from engine.data.load import load_dataset
        from engine.training.cleaning import CleaningRule, decide, detection_stats, finetune_subsets

        b = self.b
        records = load_dataset(self.data.pseudo).records
        s = np.array(scores["scores"], np.float32)
        keep = np.ones(len(records), bool) if fraction >= 1.0 else decide(s, CleaningRule(keep_fraction=fraction)).keep
        subset = [r for r, k in zip(records, keep) if k]
        ckpt = finetune_subsets(self.base_w, {name: subset}, self.work / f"seed{seed}" / "clean", b.clean_steps,
                                b.clean_batch, b.clean_lr, seed, str(self.device), _head(progress, 0.7),
                                self.should_cancel, source=self.data.pseudo)[name]
        test = self.evaluate(str(ckpt), seed, _tail(progress, 0.7))
        return {"checkpoint": str(ckpt), "kept": int(keep.sum()), "test": test,
                "detection": detection_stats(keep, np.array(scores["corrupted"], bool))}


def _shown(path: Path) -> str:
    """A path relative to the working folder when it lies inside it (reports stay portable)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _head(progress: ProgressFn, share: float) -> ProgressFn:
    return lambda e: progress(ProgressEvent(share * e.fraction, e.message, e.metrics))


def run_seed_stages(run: Callable, ctx: Any, base_w: str | Path, scores: Any, seeds: int,
                    keep_fractions: Sequence[float]) -> None:
    """Every seed's stages, as both tracks run them: the base model's test, pairs, DPO and
    its reprojection control, and a fine-tune on all and on each cleaned share of the
    pseudo-labels. run(key, message, fn) runs a stage once (results are kept by key)."""
    for r in range(seeds):
        run(f"seed{r}/base", f"seed {r} base", lambda p: ctx.evaluate(base_w, r, p))
        run(f"seed{r}/pairs", f"seed {r} pairs", lambda p: ctx.pairs(r, p))
        for mode in ("dpo", "reprojection"):
            run(f"seed{r}/{mode}", f"seed {r} {mode}", lambda p: ctx.finetune_pairs(mode, r, p))
        for name, fraction in [("all", 1.0)] + [(f"top{round(f * 100)}", f) for f in keep_fractions]:
            run(f"seed{r}/clean/{name}", f"seed {r} clean {name}",
                lambda p: ctx.finetune_clean(name, fraction, scores, r, p))


def stage_times(results: dict[str, Any], started: float) -> dict[str, Any]:
    """The report's timing settings: per stage, this call's wall time, and the sums."""
    return {
        "stage_seconds": results.get("_seconds", {}),
        "wall_seconds_this_call": round(time.perf_counter() - started, 1),
        "compute_seconds": round(sum(results.get("_seconds", {}).values()), 1),
        "cpu_seconds": round(sum(results.get("_cpu_seconds", {}).values()), 1),
    }


def _tail(progress: ProgressFn, start: float) -> ProgressFn:
    return lambda e: progress(ProgressEvent(start + (1 - start) * e.fraction, "test: " + e.message, e.metrics))
