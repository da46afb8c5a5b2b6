"""The "eval" job: ``engine.evaluation.evaluate``; the report is also written as Markdown
into the job's state folder."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._common import dataset_file, jsonable
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "eval"
NO_SCORER = ("none", "off", "false")
SETTINGS = ("num_candidates", "steps", "seed", "consensus", "fit_start", "device")


def param_specs() -> tuple[ParamSpec, ...]:
    return (
        P.dataset("a labelled dataset of this project (or give data)", optional=True),
        ParamSpec("data", "str", None, "a labelled annotation file (or give dataset)", optional=True),
        P.checkpoint("checkpoint", P.BASE_KINDS, "the model to evaluate", "latest"),
        P.checkpoint("scorer", ("scorer",), "selects the top-k hypotheses (none: skip the Select rows)", "latest"),
        *P.sample_settings(SETTINGS),
        ParamSpec("top_k", "int", 1, "the Select row averages the scorer's top k", ge=1),
        ParamSpec("max_images", "int", None, "evaluate at most this many images (empty: all)", optional=True,
                  ge=1),
        ParamSpec("batch_size", "int", 8, "people per batch", ge=1),
        ParamSpec("fit", "bool", False, "fit each person's body and add it as the last hypothesis, the samples "
                  "starting from it (fit_start), as adhmr eval --fit"),
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()`` (scorer 'none': without the Select rows).
    Outputs: the result's ``to_dict()`` and report (path of the Markdown table)."""
    from engine.errors import DataError
    from engine.evaluation import evaluate
    from engine.models.sample_settings import SampleSettings
    from engine.projects.checkpoints import resolve_checkpoint

    v = P.values(KIND, params, param_specs())
    data, dataset = v["data"], v["dataset"]
    if (data is None) == (dataset is None):
        raise DataError(f"job {KIND}: give exactly one of 'data' (a file) and 'dataset' (a project dataset)")
    settings = SampleSettings(**{k: v[k] for k in SETTINGS})
    base = resolve_checkpoint(ctx.project, v["checkpoint"], P.BASE_KINDS)
    scorer_ref = v["scorer"]
    use_scorer = not (isinstance(scorer_ref, str) and scorer_ref.lower() in NO_SCORER)
    scorer = resolve_checkpoint(ctx.project, scorer_ref, ("scorer",)).path if use_scorer else None
    result = evaluate(
        base.path, scorer, data or dataset_file(ctx, dataset), settings, top_k=v["top_k"],
        max_images=v["max_images"], batch_size=v["batch_size"], use_scorer=use_scorer,
        progress=ctx.report, should_cancel=ctx.should_cancel, with_fit=v["fit"],
    )
    report = ctx.state_dir / "report.md"
    report.write_text(result.to_markdown() + "\n", encoding="utf-8")
    ctx.log(f"report written to {report}")
    return {**jsonable(result.to_dict()), "report": str(report), "checkpoint_id": base.id}


register_job(KIND, run, writer=False, params=param_specs)
