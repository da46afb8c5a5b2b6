"""The "train-scorer" job: ``engine.training.scorer_train.train_scorer``, resumed from its
state file, and the checkpoint it writes registered in the project."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._common import checkpoint_out, dataset_file
from engine.jobs.kinds._params import Params, coerce_config
from engine.jobs.registry import register_job

KIND = "train-scorer"
PROJECT_PARAMS = ("dataset", "val_dataset")


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: the fields of ``ScorerTrainConfig`` (data, val: annotation files; base: a
    base checkpoint reference (id | latest | default | path) for model candidates;
    steps, ...; not resume, which is automatic), and dataset / val_dataset: project
    datasets instead of data / val. Outputs: checkpoint, checkpoint_id."""
    from engine.errors import DataError
    from engine.projects.checkpoints import register_checkpoint, resolve_checkpoint
    from engine.training.scorer_train import ScorerTrainConfig, state_path, train_scorer

    values = {k: v for k, v in params.items() if k not in PROJECT_PARAMS}
    if "resume" in values:
        raise DataError(f"job {KIND}: 'resume' is automatic (resume the job instead)")
    p = Params(KIND, {k: params[k] for k in PROJECT_PARAMS if k in params}, PROJECT_PARAMS)
    for key, ds_key in (("data", "dataset"), ("val", "val_dataset")):
        dataset = p.str(ds_key, None)
        if dataset is not None:
            if values.get(key) is not None:
                raise DataError(f"job {KIND}: give '{key}' or '{ds_key}', not both")
            values[key] = dataset_file(ctx, dataset)
    if values.get("base") is not None:
        values["base"] = resolve_checkpoint(ctx.project, values["base"], ("base", "dpo")).path
    values.setdefault("out", checkpoint_out(ctx, "scorer"))
    values["resume"] = state_path(values["out"]).is_file()
    if values["resume"]:
        ctx.log(f"resuming from {state_path(values['out'])}")
    config = coerce_config(KIND, ScorerTrainConfig, values)
    weights = train_scorer(config, ctx.report, ctx.should_cancel)
    return {"checkpoint": str(weights), "checkpoint_id": register_checkpoint(ctx.project, weights)}


register_job(KIND, run, writer=False)
