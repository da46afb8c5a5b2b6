"""What several job kinds share: where outputs go and how project datasets become files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engine.jobs.context import JobContext


def checkpoint_out(ctx: JobContext, name: str) -> str:
    """Default checkpoint stem of a training job: ``<data>/checkpoints/<name>-job<id>``."""
    return str(ctx.project.data_dir / "checkpoints" / f"{name}-job{ctx.job_id}")


def dataset_file(ctx: JobContext, dataset: str) -> str:
    """A project dataset written as a SPIN npz into the job's state folder.

    Written once per job: a resumed attempt trains on the same file.
    """
    from engine.projects.exporting import export_dataset

    target = ctx.state_dir / f"dataset-{_safe(dataset)}.npz"
    if not target.is_file():
        result = export_dataset(ctx.project, dataset, target, format="spin", job_state=True)
        ctx.log(f"dataset {dataset!r}: {result.written} persons written to {target}")
    return str(target)


def data_files(ctx: JobContext, files: list[str] | None, datasets: list[str] | None) -> list[str]:
    """Annotation files given directly, then those of project datasets."""
    return list(files or []) + [dataset_file(ctx, d) for d in datasets or []]


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as None and paths and tuples as JSON types."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):
        return jsonable(value.item())
    return value


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
