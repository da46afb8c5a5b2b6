"""The "clean" job: ``engine.projects.cleaning.clean_project_dataset`` (one cleaning run,
recorded once: a resumed job returns the run it already made)."""

from __future__ import annotations

import json
from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "clean"


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset, scorer (id | latest | default | path), keep_fraction (0.8) or
    threshold, device. Outputs: cleaning_run, dataset, scorer_id, persons, scored, kept,
    dropped."""
    from engine.projects.cleaning import clean_project_dataset
    from engine.training.cleaning import CleaningRule

    p = Params(KIND, params, ("dataset", "scorer", "keep_fraction", "threshold", "device"))
    done = ctx.state_dir / "outputs.json"
    if done.is_file():
        return json.loads(done.read_text())
    threshold = p.float("threshold", None)
    rule = CleaningRule(threshold=threshold) if threshold is not None else CleaningRule(p.float("keep_fraction", 0.8))
    outputs = clean_project_dataset(ctx.project, p.str("dataset"), rule, scorer=p.ref("scorer"),
                                    device=p.str("device", None), progress=ctx.report,
                                    should_cancel=ctx.should_cancel)
    done.write_text(json.dumps(outputs))
    return outputs


register_job(KIND, run, writer=True)
