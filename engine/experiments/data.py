"""The experiment's synthetic wild data, rendered once into a cache folder.

Four sets, each from its own generator seed so none overlaps another: the unlabelled
pool pairs are built from, a validation set, the test set, and a pseudo-labelled set
whose labels are partly corrupted (``engine.data.synth.corruption``). A folder is named
by domain, seed, image size and count, so budgets never share (or rewrite) a set.

Each set's detector cache (``annotations.detector.npz``, ``engine.data.detector_cache``)
is written beside it, so detector-conditioned models read what the detector sees in the
renders, as on a photo (evaluation, pairs, cleaning and fine-tuning all read it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.data.detector_cache import cache_path, detect_dataset, save_detections
from engine.data.load import load_dataset
from engine.data.synth.generate import generate_dataset
from engine.experiments.budgets import Budget
from engine.progress import CancelFn, ProgressEvent, ProgressFn, never_cancel, no_progress

SEEDS = {"pool": 1001, "val": 1002, "test": 1003, "pseudo": 1004}


@dataclass(frozen=True)
class ExperimentData:
    """annotations.npz of each set."""

    pool: Path
    val: Path
    test: Path
    pseudo: Path


def prepare_data(
    cache_dir: str | Path,
    budget: Budget,
    workers: int = 1,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> ExperimentData:
    """Render (or reuse) the four wild sets under ``cache_dir``, each with its detector cache."""
    sizes = {"pool": budget.n_pool, "val": budget.n_val, "test": budget.n_test, "pseudo": budget.n_pseudo}
    out: dict[str, Path] = {}
    # Each person is rendered, then detected: two units of work.
    total = 2 * sum(sizes.values())
    done = 0
    detector = None
    for name, n in sizes.items():
        corrupt = budget.corrupt_fraction if name == "pseudo" else 0.0
        folder = Path(cache_dir) / f"wild-{name}-s{SEEDS[name]}-{budget.image_size}px-n{n}"
        if corrupt:
            folder = folder.with_name(folder.name + f"-c{corrupt:g}")

        def report(e: ProgressEvent, start: int = done, n: int = n, name: str = name) -> None:
            progress(ProgressEvent((start + e.fraction * n) / total, f"data {name}: {e.message}"))

        def detected(e: ProgressEvent, start: int = done + n, n: int = n, name: str = name) -> None:
            progress(ProgressEvent((start + e.fraction * n) / total, f"detector on {name}: {e.message}"))

        target = folder / "annotations.npz"
        if not target.is_file():
            generate_dataset(folder, n, "wild", seed=SEEDS[name], size=budget.image_size, workers=workers,
                             corrupt_fraction=corrupt, progress=report, should_cancel=should_cancel)
        if not cache_path(target).is_file():
            if detector is None:
                from engine.detect import PoseDetector

                detector = PoseDetector()
            records = load_dataset(target).records
            save_detections(cache_path(target), detect_dataset(records, detector, detected, should_cancel), records)
        out[name] = target
        done += 2 * n
    return ExperimentData(**out)
