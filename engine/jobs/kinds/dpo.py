"""The "dpo" job: ``engine.training.dpo_train.train_dpo`` on a project's preference pairs
(and pair files), resumed from its state; the checkpoint is registered with its parent."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._common import checkpoint_out, data_files
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "dpo"
NAMES = ("dataset", "pairs", "checkpoint", "scorer", "eval_dataset", "sft_dataset", "out", "mode", "steps",
         "batch_size", "lr", "beta", "antithetic", "ema_decay", "sft_weight", "eval_every", "eval_images", "eval_M",
         "save_every", "seed", "device")


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset (train on the pairs of its persons; omit for every pair of the
    project), pairs (pair files to add), checkpoint (the model to tune: id | latest |
    default | path), mode (dpo | reprojection), steps (500), batch_size (8), lr (1e-5),
    beta (100), antithetic, ema_decay, seed, device; eval_dataset + scorer + eval_every
    for held-out evaluation; sft_dataset + sft_weight to mix in the supervised loss.
    The pairs are frozen in the job's state on the first attempt, so a resumed job
    trains on the same ones. Outputs: checkpoint (weights), checkpoint_id, pairs."""
    from engine.errors import DataError
    from engine.projects.checkpoints import register_checkpoint, resolve_checkpoint
    from engine.training.base_train import train_state_path
    from engine.training.dpo import DPOConfig
    from engine.evaluation import evaluate_dpo_checkpoint
    from engine.training.dpo_train import train_dpo
    from engine.training.pair_io import load_pairs, missing_images, save_pairs
    from engine.training.pairs import merge_pairs
    from engine.projects.pairs import project_pairs

    p = Params(KIND, params, NAMES)
    base = resolve_checkpoint(ctx.project, p.ref("checkpoint"), ("base", "dpo"))
    frozen = ctx.state_dir / "pairs.jsonl"
    if frozen.is_file() and (lost := missing_images(load_pairs(frozen))):
        # Versions before issue 18 froze image paths relative to the working directory of
        # the first attempt; such a file is frozen again from the project.
        ctx.log(f"{frozen}: {len(lost)} images not found (first: {lost[0]}); freezing the pairs again")
        frozen.unlink()
    if not frozen.is_file():
        pairs = project_pairs(ctx.project, p.str("dataset", None)) + load_pairs(p.list("pairs", []))
        pairs = merge_pairs(pairs)
        if not pairs:
            raise DataError(f"job {KIND}: the project has no accepted or proposed pairs (run a 'pairs' job first)")
        save_pairs(frozen, pairs)
        ctx.log(f"{len(pairs)} pairs frozen in {frozen}")
    eval_files = data_files(ctx, None, p.list("eval_dataset", None))
    sft_files = data_files(ctx, None, p.list("sft_dataset", None))
    scorer = p.ref("scorer")
    out = p.str("out", None) or checkpoint_out(ctx, "dpo")
    config = DPOConfig(
        out=out, base=base.path, pairs=(str(frozen),), mode=p.str("mode", "dpo"), steps=p.int("steps", 500),
        batch_size=p.int("batch_size", 8), lr=p.float("lr", 1e-5), beta=p.float("beta", 100.0),
        antithetic=p.bool("antithetic", False), ema_decay=p.float("ema_decay", 0.0),
        sft_data=tuple(sft_files), sft_weight=p.float("sft_weight", 0.0),
        eval_data=eval_files[0] if eval_files else None,
        scorer=None if scorer is None else resolve_checkpoint(ctx.project, scorer, ("scorer",)).path,
        eval_every=p.int("eval_every", 0), eval_images=p.int("eval_images", 32), eval_M=p.int("eval_M", 10),
        save_every=p.int("save_every", 50), seed=p.int("seed", 0), device=p.str("device", "auto"),
        resume=train_state_path(out).is_file())
    if config.resume:
        ctx.log(f"resuming from {train_state_path(out)}")
    weights = train_dpo(config, ctx.report, ctx.should_cancel, evaluator=evaluate_dpo_checkpoint)
    return {"checkpoint": str(weights), "pairs": len(load_pairs(frozen)),
            "checkpoint_id": register_checkpoint(ctx.project, weights, parent_id=base.id)}


register_job(KIND, run, writer=False)
