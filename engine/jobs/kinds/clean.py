"""The "clean" job: ``engine.projects.cleaning.clean_project_dataset`` (one cleaning run,
recorded once: a resumed job returns the run it already made)."""

from __future__ import annotations

import json
from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "clean"
KEEP_FRACTION = 0.8


def param_specs() -> tuple[ParamSpec, ...]:
    from engine.params import describe
    from engine.training.cleaning import CleaningRule

    return (
        P.dataset(),
        P.checkpoint("scorer", ("scorer",), "scores each pseudo-label", "latest"),
        # CleaningRule takes exactly one of the two; the job keeps the top 80 % unless told otherwise.
        *(P.renamed(r, default=KEEP_FRACTION, optional=False) if r.name == "keep_fraction" else r
          for r in describe(CleaningRule)),
        P.device(),
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``. Outputs: cleaning_run, dataset, scorer_id, persons,
    scored, kept, dropped."""
    from engine.projects.cleaning import clean_project_dataset
    from engine.training.cleaning import CleaningRule

    v = P.values(KIND, params, param_specs())
    done = ctx.state_dir / "outputs.json"
    if done.is_file():
        return json.loads(done.read_text())
    rule = CleaningRule(threshold=v["threshold"]) if v["threshold"] is not None else CleaningRule(v["keep_fraction"])
    outputs = clean_project_dataset(ctx.project, v["dataset"], rule, scorer=v["scorer"], device=v["device"],
                                    progress=ctx.report, should_cancel=ctx.should_cancel)
    done.write_text(json.dumps(outputs))
    return outputs


register_job(KIND, run, writer=True, params=param_specs)
