"""The "train-scorer" job: ``engine.training.scorer_train.train_scorer``, resumed from its
state file, and the checkpoint it writes registered in the project."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.kinds._common import checkpoint_out, dataset_file
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "train-scorer"


def param_specs() -> tuple[ParamSpec, ...]:
    """The project datasets, then ScorerTrainConfig's fields (data / val files optional beside them;
    resume is automatic)."""
    from engine.training.scorer_train import ScorerTrainConfig
    from engine.params import describe

    own = (P.dataset("the dataset of this project to train on (or give data)", optional=True),
           P.dataset("validation dataset (or give val)", optional=True, name="val_dataset"),
           P.checkpoint("base", P.BASE_KINDS, "base model whose samples join the training candidates "
                        "(none: noise only)"))
    return own + tuple(P.renamed(s, required=False, optional=True) if s.name in ("data", "out") else s
                       for s in describe(ScorerTrainConfig, exclude=("resume", "base")))


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: the fields of ``ScorerTrainConfig`` (data, val: annotation files; base: a
    base checkpoint reference (id | latest | default | path) for model candidates;
    steps, ...; not resume, which is automatic), and dataset / val_dataset: project
    datasets instead of data / val. Outputs: checkpoint, checkpoint_id."""
    from engine.errors import DataError
    from engine.projects.checkpoints import register_checkpoint, resolve_checkpoint
    from engine.training.scorer_train import ScorerTrainConfig, state_path, train_scorer

    if "resume" in params:
        raise DataError(f"job {KIND}: 'resume' is automatic (resume the job instead)")
    values = P.values(KIND, params, param_specs())
    for key, ds_key in (("data", "dataset"), ("val", "val_dataset")):
        dataset = values.pop(ds_key)
        if dataset is not None:
            if values[key] is not None:
                raise DataError(f"job {KIND}: give '{key}' or '{ds_key}', not both")
            values[key] = dataset_file(ctx, dataset)
    if values["base"] is not None:
        values["base"] = resolve_checkpoint(ctx.project, values["base"], P.BASE_KINDS).path
    values["out"] = values["out"] or checkpoint_out(ctx, "scorer")
    values["resume"] = state_path(values["out"]).is_file()
    if values["resume"]:
        ctx.log(f"resuming from {state_path(values['out'])}")
    weights = train_scorer(ScorerTrainConfig(**values), ctx.report, ctx.should_cancel)
    return {"checkpoint": str(weights), "checkpoint_id": register_checkpoint(ctx.project, weights)}


register_job(KIND, run, writer=False, params=param_specs)
