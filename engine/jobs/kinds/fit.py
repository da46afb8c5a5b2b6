"""The "fit" job: ``engine.projects.fitting.fit_dataset`` (pseudo-labels from the body fit)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "fit"
BODY_STEPS = 120
"""``FitConfig.body_steps``'s default, spelled here so listing the kinds imports no torch."""


def param_specs() -> tuple[ParamSpec, ...]:
    return (
        P.dataset(),
        ParamSpec("replace", "bool", False, "also refit people whose label is a pseudo-label"),
        ParamSpec("world", "bool", True, "use the stored BlazePose world landmarks"),
        ParamSpec("steps", "int", BODY_STEPS, "body optimisation steps", ge=1),
        P.device("auto"),
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``. Resumes by skipping people labelled (or, with
    replace, already fitted by this job)."""
    from dataclasses import replace

    from engine.body.model import BodyModel
    from engine.devices import check_device
    from engine.fitting import FitConfig
    from engine.projects.fitting import fit_dataset

    v = P.values(KIND, params, param_specs())
    body = BodyModel(device=str(check_device(v["device"] or "auto")))
    return fit_dataset(ctx.project, v["dataset"], body=body, config=replace(FitConfig(), body_steps=v["steps"]),
                       replace=v["replace"], use_world=v["world"], done_file=ctx.state_dir / "fitted.txt",
                       progress=ctx.report, should_cancel=ctx.should_cancel)


register_job(KIND, run, writer=True, params=param_specs)
