"""The "pairs" job: ``engine.projects.pairs.propose_project_pairs`` over a dataset's
scored candidates (re-running adds only the pairs not there yet)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "pairs"
FROM_CONFIG = ("pairs_per_image", "top_k", "bottom_k", "min_margin")


def param_specs() -> tuple[ParamSpec, ...]:
    """dataset, PairConfig's choice of pairs (the candidates are already stored), export."""
    from engine.params import describe
    from engine.training.pairs import PairConfig

    return (
        P.dataset(),
        *describe(PairConfig, only=FROM_CONFIG),
        ParamSpec("export", "str", None, "also write the training pairs to this .jsonl or .npz file",
                  optional=True),
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``. Outputs: the proposal's counts, and export when given."""
    from engine.training.pair_io import save_pairs
    from engine.training.pairs import PairConfig
    from engine.projects.pairs import project_pairs, propose_project_pairs

    v = P.values(KIND, params, param_specs())
    # The stored candidates are ranked, not sampled: num_candidates only bounds top_k + bottom_k.
    config = PairConfig(num_candidates=max(2, v["top_k"] + v["bottom_k"]), **{k: v[k] for k in FROM_CONFIG})
    outputs = propose_project_pairs(ctx.project, v["dataset"], config, ctx.report, ctx.should_cancel)
    if v["export"]:
        outputs["exported"] = save_pairs(v["export"], project_pairs(ctx.project, v["dataset"]))
        outputs["export"] = v["export"]
    return outputs


register_job(KIND, run, writer=True, params=param_specs)
