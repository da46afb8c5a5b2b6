"""The "dpo" job: ``engine.training.dpo_train.train_dpo`` on a project's preference pairs
(and pair files), resumed from its state; the checkpoint is registered with its parent."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.store import Project
from engine.jobs.kinds import _params as P
from engine.jobs.kinds._common import checkpoint_out, data_files
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "dpo"
PAIR_SELECTIONS = {
    "reviewed": "the pairs a person decided: scorer pairs accepted (or flipped) by hand, and hand-made ones",
    "reviewed+proposed": "those, and the scorer's proposals nobody reviewed",
    "hand-made": "only the pairs made by hand (Free pick, flips)",
}
"""Which of the project's training pairs DPO uses (``pair_selection``)."""
# DPOConfig fields the job sets itself: from the project (base, pairs, data files), or
# automatically (resume), or that only a command-line run needs.
SET_BY_JOB = ("out", "base", "pairs", "sft_data", "eval_data", "scorer", "resume", "workers", "body_model")


def param_specs() -> tuple[ParamSpec, ...]:
    """The job's own parameters, then DPOConfig's (its defaults, bounds and help)."""
    from engine.params import describe
    from engine.training.dpo import DPOConfig

    return (
        P.dataset("train on the pairs of this dataset's persons (none: every pair of the project)", optional=True),
        P.checkpoint("checkpoint", P.BASE_KINDS, "the model to fine-tune (also the frozen reference)", "latest"),
        ParamSpec("pairs", "paths", [], "pair files (.jsonl / .npz) added to the project's pairs"),
        ParamSpec("pair_selection", "str", "reviewed+proposed",
                  "which of the project's pairs train: " + "; ".join(f"{k}: {v}" for k, v in PAIR_SELECTIONS.items()),
                  choices=tuple(PAIR_SELECTIONS)),
        P.dataset("labelled dataset evaluated during training", optional=True, name="eval_dataset", many=True),
        P.checkpoint("scorer", ("scorer",), "adds the Select row to the evaluation (none: without)"),
        P.dataset("labelled datasets for the supervised loss", optional=True, name="sft_dataset", many=True),
        ParamSpec("out", "str", None, "checkpoint path stem (default: the project's checkpoints folder)",
                  optional=True),
        *describe(DPOConfig, exclude=SET_BY_JOB),
    )


def select_pairs(pairs: list, selection: str) -> list:
    """The merged training pairs (``PreferencePair``) that ``selection`` keeps."""
    if selection == "reviewed":
        return [p for p in pairs if p.decided]
    if selection == "hand-made":
        return [p for p in pairs if p.source == "manual"]
    return list(pairs)


def pair_counts(project: Project, dataset: str | int | None = None) -> dict[str, int]:
    """How many of the project's training pairs (of ``dataset``'s persons, or all) each
    ``pair_selection`` keeps: what the New Job form shows before a start."""
    from engine.projects.pairs import project_pairs

    pairs = project_pairs(project, dataset)
    return {name: len(select_pairs(pairs, name)) for name in PAIR_SELECTIONS}


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()`` (``adhmr jobs PROJECT kinds`` lists them). The pairs are
    frozen in the job's state on the first attempt, so a resumed job trains on the same
    ones. Outputs: checkpoint (weights), checkpoint_id, pairs."""
    from engine.errors import DataError
    from engine.projects.checkpoints import register_checkpoint, resolve_checkpoint
    from engine.training.base_train import train_state_path
    from engine.training.dpo import DPOConfig
    from engine.training.dpo_train import train_dpo
    from engine.training.pair_io import load_pairs, missing_images, save_pairs
    from engine.training.pairs import merge_pairs
    from engine.projects.pairs import project_pairs

    v = P.values(KIND, params, param_specs())
    base = resolve_checkpoint(ctx.project, v["checkpoint"], P.BASE_KINDS)
    frozen = ctx.state_dir / "pairs.jsonl"
    if frozen.is_file() and (lost := missing_images(load_pairs(frozen))):
        # Versions before issue 18 froze image paths relative to the working directory of
        # the first attempt; such a file is frozen again from the project.
        ctx.log(f"{frozen}: {len(lost)} images not found (first: {lost[0]}); freezing the pairs again")
        frozen.unlink()
    if not frozen.is_file():
        pairs = select_pairs(merge_pairs(project_pairs(ctx.project, v["dataset"]) + load_pairs(v["pairs"])),
                             v["pair_selection"])
        if not pairs:
            raise DataError(f"job {KIND}: no {v['pair_selection']} pairs to train on "
                            "(review pairs in the Pairs panel, or run a 'pairs' job first)")
        save_pairs(frozen, pairs)
        ctx.log(f"{len(pairs)} pairs frozen in {frozen}")
    eval_files = data_files(ctx, None, v["eval_dataset"])
    out = v["out"] or checkpoint_out(ctx, "dpo")
    scorer = v["scorer"]
    tuning = {k: v[k] for k in v if k not in ("dataset", "checkpoint", "pairs", "pair_selection", "eval_dataset",
                                               "scorer", "sft_dataset", "out")}
    config = DPOConfig(
        out=out, base=base.path, pairs=(str(frozen),), sft_data=tuple(data_files(ctx, None, v["sft_dataset"])),
        eval_data=eval_files[0] if eval_files else None,
        scorer=None if scorer is None else resolve_checkpoint(ctx.project, scorer, ("scorer",)).path,
        resume=train_state_path(out).is_file(), **tuning)
    if config.resume:
        ctx.log(f"resuming from {train_state_path(out)}")
    weights = train_dpo(config, ctx.report, ctx.should_cancel)
    return {"checkpoint": str(weights), "pairs": len(load_pairs(frozen)),
            "checkpoint_id": register_checkpoint(ctx.project, weights, parent_id=base.id)}


register_job(KIND, run, writer=False, params=param_specs)
