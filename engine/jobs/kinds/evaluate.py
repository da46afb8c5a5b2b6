"""The "eval" job: ``engine.evaluation.evaluate``; the report is also written as Markdown
into the job's state folder."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._common import dataset_file, jsonable
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "eval"
NO_SCORER = ("none", "off", "false")


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: checkpoint (base/DPO reference: id | latest | default | path), scorer
    (scorer reference, or 'none'), data (labelled annotation file) or dataset (a project
    dataset), M (20), steps (4), top_k (1), max_images, seed (0), batch_size (8), device,
    consensus (true: the scorer's sample-consensus term; false: its network alone).
    Outputs: the result's ``to_dict()`` and report (path of the Markdown table)."""
    from engine.errors import DataError
    from engine.evaluation import evaluate
    from engine.models.sample_settings import SampleSettings
    from engine.projects.checkpoints import resolve_checkpoint

    p = Params(KIND, params, ("checkpoint", "scorer", "data", "dataset", "M", "steps", "top_k",
                              "max_images", "seed", "batch_size", "device", "consensus"))
    data, dataset = p.str("data", None), p.str("dataset", None)
    if (data is None) == (dataset is None):
        raise DataError(f"job {KIND}: give exactly one of 'data' (a file) and 'dataset' (a project dataset)")
    settings = SampleSettings(num_candidates=p.int("M", 20), steps=p.int("steps", 4), seed=p.int("seed", 0),
                              consensus=p.bool("consensus", True), device=p.str("device", None) or "auto")
    base = resolve_checkpoint(ctx.project, p.ref("checkpoint"), ("base", "dpo"))
    scorer_ref = p.ref("scorer")
    use_scorer = not (isinstance(scorer_ref, str) and scorer_ref.lower() in NO_SCORER)
    scorer = resolve_checkpoint(ctx.project, scorer_ref, ("scorer",)).path if use_scorer else None
    result = evaluate(
        base.path, scorer, data or dataset_file(ctx, dataset), settings, top_k=p.int("top_k", 1),
        max_images=p.int("max_images", None), batch_size=p.int("batch_size", 8), use_scorer=use_scorer,
        progress=ctx.report, should_cancel=ctx.should_cancel,
    )
    report = ctx.state_dir / "report.md"
    report.write_text(result.to_markdown() + "\n", encoding="utf-8")
    ctx.log(f"report written to {report}")
    return {**jsonable(result.to_dict()), "report": str(report), "checkpoint_id": base.id}


register_job(KIND, run, writer=False)
