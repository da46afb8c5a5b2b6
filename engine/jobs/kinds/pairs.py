"""The "pairs" job: ``engine.projects.pairs.propose_project_pairs`` over a dataset's
scored candidates (re-running adds only the pairs not there yet)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "pairs"


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset, min_margin (0.2, log-odds), per_person (4), top_k (5), bottom_k (5),
    export (optional .jsonl / .npz path: the project's training pairs written there)."""
    from engine.training.pair_io import save_pairs
    from engine.training.pairs import PairConfig
    from engine.projects.pairs import project_pairs, propose_project_pairs

    p = Params(KIND, params, ("dataset", "min_margin", "per_person", "top_k", "bottom_k", "export"))
    top, bottom = p.int("top_k", 5), p.int("bottom_k", 5)
    config = PairConfig(num_candidates=max(2, top + bottom), pairs_per_image=p.int("per_person", 4), top_k=top,
                        bottom_k=bottom, min_margin=p.float("min_margin", PairConfig.min_margin))
    outputs = propose_project_pairs(ctx.project, p.str("dataset"), config, ctx.report, ctx.should_cancel)
    export = p.str("export", None)
    if export:
        outputs["exported"] = save_pairs(export, project_pairs(ctx.project, p.str("dataset")))
        outputs["export"] = export
    return outputs


register_job(KIND, run, writer=True)
