"""The "score" job: ``engine.projects.score_dataset`` (resumes from its list of done persons)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "score"


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset, scorer (id | latest | default | path), device, consensus (true: the
    scorer's sample-consensus term; false: its network alone)."""
    from engine.projects.scoring import score_dataset

    p = Params(KIND, params, ("dataset", "scorer", "device", "consensus"))
    return score_dataset(
        ctx.project, p.str("dataset"), scorer=p.ref("scorer"), done_file=ctx.state_dir / "scored.txt",
        device=p.str("device", None), consensus=p.bool("consensus", True), progress=ctx.report, should_cancel=ctx.should_cancel,
    )


register_job(KIND, run, writer=True)
