"""The "sample" job: ``engine.projects.sample_dataset`` (resumes by skipping sampled persons)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "sample"
SETTINGS = ("num_candidates", "steps", "seed", "consensus", "fit_start", "device")


def param_specs() -> tuple[ParamSpec, ...]:
    """dataset, checkpoint, scorer, then SampleSettings' fields the job exposes."""
    return (
        P.dataset(),
        P.checkpoint("checkpoint", P.BASE_KINDS, "the diffusion model (base or DPO)", "latest"),
        P.checkpoint("scorer", ("scorer",), "scores the candidates (none: leave them unscored)"),
        *P.sample_settings(SETTINGS),
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``. Outputs: sampled, skipped, checkpoint_id, scorer_id."""
    from engine.models.sample_settings import SampleSettings
    from engine.projects.sampling import sample_dataset

    v = P.values(KIND, params, param_specs())
    settings = SampleSettings(**{k: v[k] for k in SETTINGS})
    return sample_dataset(ctx.project, v["dataset"], checkpoint=v["checkpoint"], scorer=v["scorer"],
                          settings=settings, progress=ctx.report, should_cancel=ctx.should_cancel)


register_job(KIND, run, writer=True, params=param_specs)
