"""The "sample" job: ``engine.projects.sample_dataset`` (resumes by skipping sampled persons)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "sample"


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset, checkpoint (id | latest | default | path), scorer (same; omit to
    leave candidates unscored), M (20), steps (4), seed (0), device, consensus (true: the
    scorer's sample-consensus term; false: its network alone)."""
    from engine.models.sample_settings import SampleSettings
    from engine.projects.sampling import sample_dataset

    p = Params(KIND, params, ("dataset", "checkpoint", "scorer", "M", "steps", "seed", "device", "consensus"))
    settings = SampleSettings(num_candidates=p.int("M", 20), steps=p.int("steps", 4), seed=p.int("seed", 0),
                              consensus=p.bool("consensus", True), device=p.str("device", None) or "auto")
    return sample_dataset(ctx.project, p.str("dataset"), checkpoint=p.ref("checkpoint"), scorer=p.ref("scorer"),
                          settings=settings, progress=ctx.report, should_cancel=ctx.should_cancel)


register_job(KIND, run, writer=True)
