"""The "synth" job: ``engine.data.synth.generate_dataset``, then an import of the result.

Generation resumes from its finished shards; the import skips images already imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job
from engine.progress import ProgressEvent

KIND = "synth"
GENERATE_SHARE = 0.8


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: n, domain (studio | wild), seed (0), size (256), workers (1),
    corrupt_fraction (0), out (folder; default ``<data>/synth/<name>``), name (the dataset,
    default synth-<domain>), import (true). Outputs: annotations path, and the import's."""
    from engine.data.synth import generate_dataset
    from engine.projects.importing import import_dataset

    p = Params(KIND, params, ("n", "domain", "seed", "size", "workers", "corrupt_fraction", "out", "name", "import"))
    domain = p.str("domain")
    name = p.str("name", f"synth-{domain}")
    out = Path(p.str("out", str(ctx.project.data_dir / "synth" / name))).absolute()
    share = GENERATE_SHARE if p.bool("import", True) else 1.0

    def generating(e: ProgressEvent) -> None:
        ctx.progress(e.fraction * share, e.message, e.metrics)

    path = generate_dataset(
        out, p.int("n"), domain, seed=p.int("seed", 0), size=p.int("size", 256),
        workers=p.int("workers", 1), corrupt_fraction=p.float("corrupt_fraction", 0.0),
        progress=generating, should_cancel=ctx.should_cancel,
    )
    outputs: dict[str, Any] = {"annotations": str(path)}
    if share < 1.0:

        def importing(e: ProgressEvent) -> None:
            ctx.progress(share + e.fraction * (1 - share), e.message)

        report = import_dataset(ctx.project, [path], name=name, progress=importing, should_cancel=ctx.should_cancel)
        outputs.update(report.to_dict())
    return outputs


register_job(KIND, run, writer=True)
