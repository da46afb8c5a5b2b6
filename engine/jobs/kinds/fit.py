"""The "fit" job: ``engine.projects.fitting.fit_dataset`` (pseudo-labels from the body fit)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "fit"


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset, replace (false: only people without a label; true: refit pseudo-
    labels too), world (true: use the stored world landmarks), steps (body steps, 120),
    device (auto). Resumes by skipping people labelled (or, with replace, already fitted)."""
    from dataclasses import replace as with_

    from engine.body.model import BodyModel
    from engine.devices import check_device
    from engine.fitting import FitConfig
    from engine.projects.fitting import fit_dataset

    p = Params(KIND, params, ("dataset", "replace", "world", "steps", "device"))
    config = with_(FitConfig(), body_steps=p.int("steps", FitConfig().body_steps))
    body = BodyModel(device=str(check_device(p.str("device", None) or "auto")))
    return fit_dataset(ctx.project, p.str("dataset"), body=body, config=config, replace=p.bool("replace", False),
                       use_world=p.bool("world", True), done_file=ctx.state_dir / "fitted.txt",
                       progress=ctx.report, should_cancel=ctx.should_cancel)


register_job(KIND, run, writer=True)
