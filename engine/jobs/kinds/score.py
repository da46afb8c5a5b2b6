"""The "score" job: ``engine.projects.score_dataset`` (resumes from its list of done persons)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "score"


def param_specs() -> tuple[ParamSpec, ...]:
    return (P.dataset(), P.checkpoint("scorer", ("scorer",), "the HMR-Scorer", "latest"), P.device(),
            *P.sample_settings(("consensus",)))


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``."""
    from engine.projects.scoring import score_dataset

    v = P.values(KIND, params, param_specs())
    return score_dataset(
        ctx.project, v["dataset"], scorer=v["scorer"], done_file=ctx.state_dir / "scored.txt",
        device=v["device"], consensus=v["consensus"], progress=ctx.report, should_cancel=ctx.should_cancel,
    )


register_job(KIND, run, writer=True, params=param_specs)
