"""The "train-base" job: ``engine.training.base_train.train_base``, resumed from its state
file, and the checkpoint it writes registered in the project."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.kinds._common import checkpoint_out, data_files
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "train-base"


def param_specs() -> tuple[ParamSpec, ...]:
    """The project datasets, then BaseTrainConfig's fields (data / val files optional beside them;
    resume is automatic)."""
    from engine.training.base_train import BaseTrainConfig
    from engine.params import describe

    own = (P.dataset("datasets of this project to train on", optional=True, many=True),
           P.dataset("validation datasets", optional=True, name="val_dataset", many=True))
    return own + tuple(P.renamed(s, required=False, optional=True) if s.name in ("data", "out") else s
                       for s in describe(BaseTrainConfig, exclude=("resume", "extra")))


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()`` (data, val: annotation files; steps,
    batch_size, lr, ...; not resume, which is automatic), and dataset / val_dataset:
    project datasets to train and validate on. out defaults to the project's
    checkpoints folder. Outputs: checkpoint (weights path), checkpoint_id."""
    from engine.errors import DataError
    from engine.projects.checkpoints import register_checkpoint
    from engine.training.base_train import BaseTrainConfig, train_base, train_state_path

    if "resume" in params:
        raise DataError(f"job {KIND}: 'resume' is automatic (resume the job instead)")
    values = P.values(KIND, params, param_specs())
    values["data"] = data_files(ctx, values["data"], values.pop("dataset"))
    values["val"] = data_files(ctx, values["val"], values.pop("val_dataset"))
    values["out"] = values["out"] or checkpoint_out(ctx, "base")
    values["resume"] = train_state_path(values["out"]).is_file()
    if values["resume"]:
        ctx.log(f"resuming from {train_state_path(values['out'])}")
    weights = train_base(BaseTrainConfig(**values), ctx.report, ctx.should_cancel)
    return {"checkpoint": str(weights), "checkpoint_id": register_checkpoint(ctx.project, weights)}


register_job(KIND, run, writer=False, params=param_specs)
