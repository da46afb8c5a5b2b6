"""The "detect" job: ``engine.projects.detect_dataset`` on images that have no person."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "detect"


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset. Photos with nobody in them are remembered in the state folder."""
    from engine.projects.detecting import detect_dataset

    p = Params(KIND, params, ("dataset",))
    return detect_dataset(
        ctx.project, p.str("dataset"), skip_file=ctx.state_dir / "no_person.txt",
        progress=ctx.report, should_cancel=ctx.should_cancel,
    )


register_job(KIND, run, writer=True)
