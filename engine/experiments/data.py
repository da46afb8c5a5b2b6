"""The experiment's synthetic wild data, rendered once into a cache folder.

Four sets, each from its own generator seed so none overlaps another: the unlabelled
pool pairs are built from, a validation set, the test set, and a pseudo-labelled set
whose labels are partly corrupted (``engine.data.synth.corruption``). A folder is named
by domain, seed, image size and count, so budgets never share (or rewrite) a set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    """Render (or reuse) the four wild sets under ``cache_dir``."""
    sizes = {"pool": budget.n_pool, "val": budget.n_val, "test": budget.n_test, "pseudo": budget.n_pseudo}
    out: dict[str, Path] = {}
    total = sum(sizes.values())
    done = 0
    for name, n in sizes.items():
        corrupt = budget.corrupt_fraction if name == "pseudo" else 0.0
        folder = Path(cache_dir) / f"wild-{name}-s{SEEDS[name]}-{budget.image_size}px-n{n}"
        if corrupt:
            folder = folder.with_name(folder.name + f"-c{corrupt:g}")

        def report(e: ProgressEvent, start: int = done, n: int = n, name: str = name) -> None:
            progress(ProgressEvent((start + e.fraction * n) / total, f"data {name}: {e.message}"))

        target = folder / "annotations.npz"
        if not target.is_file():
            generate_dataset(folder, n, "wild", seed=SEEDS[name], size=budget.image_size, workers=workers,
                             corrupt_fraction=corrupt, progress=report, should_cancel=should_cancel)
        out[name] = target
        done += n
    return ExperimentData(**out)
