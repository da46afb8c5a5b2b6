"""The "train-base" job: ``engine.training.base_train.train_base``, resumed from its state
file, and the checkpoint it writes registered in the project."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._common import checkpoint_out, data_files
from engine.jobs.kinds._params import Params, coerce_config
from engine.jobs.registry import register_job

KIND = "train-base"
PROJECT_PARAMS = ("dataset", "val_dataset")


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: the fields of ``BaseTrainConfig`` (data, val: annotation files; steps,
    batch_size, lr, ...; not resume, which is automatic), and dataset / val_dataset:
    project datasets to train and validate on. out defaults to the project's
    checkpoints folder. Outputs: checkpoint (weights path), checkpoint_id."""
    from engine.errors import DataError
    from engine.projects.checkpoints import register_checkpoint
    from engine.training.base_train import BaseTrainConfig, train_base, train_state_path

    values = {k: v for k, v in params.items() if k not in PROJECT_PARAMS}
    if "resume" in values:
        raise DataError(f"job {KIND}: 'resume' is automatic (resume the job instead)")
    p = Params(KIND, {k: params[k] for k in PROJECT_PARAMS if k in params}, PROJECT_PARAMS)
    values["data"] = data_files(ctx, _as_list(values.get("data")), p.list("dataset", None))
    values["val"] = data_files(ctx, _as_list(values.get("val")), p.list("val_dataset", None))
    values.setdefault("out", checkpoint_out(ctx, "base"))
    values["resume"] = train_state_path(values["out"]).is_file()
    if values["resume"]:
        ctx.log(f"resuming from {train_state_path(values['out'])}")
    config = coerce_config(KIND, BaseTrainConfig, values)
    weights = train_base(config, ctx.report, ctx.should_cancel)
    return {"checkpoint": str(weights), "checkpoint_id": register_checkpoint(ctx.project, weights)}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


register_job(KIND, run, writer=False)
