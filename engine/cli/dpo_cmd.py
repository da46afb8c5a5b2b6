"""``adhmr dpo``: fine-tune the diffusion model with Diffusion-DPO on preference pairs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine.cli.common import add_compute_options, apply_threads
from engine.cli.jobs_cmd import open_project, report_result, run_in_foreground
from engine.cli.param_options import add_param_options, values_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dpo",
        help="fine-tune the diffusion model with Diffusion-DPO on preference pairs",
        description=(
            "Diffusion-DPO: a frozen copy of --base is the reference; winner and loser of each\n"
            "pair are noised with the same timestep and noise, and the model learns to lower\n"
            "its ε error on winners relative to losers (loss -log σ(-β/2 [Δw - Δl])). Logs loss,\n"
            "implicit accuracy and reward margin; --eval-data adds held-out MPJPE / PA-MPJPE /\n"
            "PVE every --eval-every steps. Writes OUT.safetensors + OUT.json (kind 'dpo') and\n"
            "OUT.train.pt (--resume continues it; the result equals an uninterrupted run).\n"
            "--mode reprojection fine-tunes on the same pairs' images with a 2D-keypoint loss\n"
            "only (a control); --mode supervised on labelled --sft-data.\n\n"
            "examples:\n"
            "  adhmr dpo --pairs pairs.jsonl --out runs/dpo --steps 500 --lr 1e-5\n"
            "  adhmr dpo --pairs auto.jsonl manual.jsonl --base runs/base --out runs/dpo --eval-data val.npz\n"
            "  adhmr dpo --project study.adhmr --dataset wild --steps 200\n"
            "  torchrun --nproc_per_node=4 -m engine.cli dpo --pairs pairs.jsonl --out runs/dpo --device cuda"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pairs", nargs="+", default=[], help="pair files (.jsonl / .npz)")
    p.add_argument("--project", type=Path, default=None, help="train on a project's pairs (as a 'dpo' job)")
    p.add_argument("--dataset", default=None, help="with --project: only the pairs of this dataset")
    p.add_argument("--pair-selection", choices=("reviewed", "reviewed+proposed", "hand-made"), default=None,
                   help="with --project: the pairs a person reviewed, those and the scorer's unreviewed proposals "
                        "(the default), or the hand-made ones only")
    p.add_argument("--base", default=None, help="checkpoint to fine-tune (default: resources/checkpoints/base)")
    p.add_argument("--out", type=Path, default=None, help="checkpoint path stem")
    add_param_options(p, _specs())
    add_compute_options(p)
    p.add_argument("--resume", action="store_true", help="continue from OUT.train.pt")
    p.set_defaults(func=_run, parser=p)


def _specs() -> tuple:
    """DPOConfig's settings, less those this command sets from its own options."""
    from engine.params import describe
    from engine.training.dpo import DPOConfig

    return describe(DPOConfig, exclude=("out", "base", "pairs", "resume", "device", "body_model"))


def _run(args: argparse.Namespace) -> int:
    apply_threads(args)
    if args.project is not None:
        return _project(args)
    if args.dataset is not None or args.pair_selection is not None:
        args.parser.error(f"{'--dataset' if args.dataset is not None else '--pair-selection'} needs --project")
    if args.out is None:
        args.parser.error("--out is required")
    from engine.cli.progress import TqdmProgress
    from engine.training.dpo import DPOConfig
    from engine.evaluation import evaluate_dpo_checkpoint
    from engine.training.dpo_train import train_dpo

    config = DPOConfig(out=str(args.out), base=args.base, pairs=tuple(args.pairs), device=args.device,
                       resume=args.resume, **values_of(args, _specs()))
    if int(os.environ.get("RANK", "0")) != 0:
        train_dpo(config, evaluator=evaluate_dpo_checkpoint)
        return 0
    with TqdmProgress("dpo") as bar:
        weights = train_dpo(config, bar, evaluator=evaluate_dpo_checkpoint)
    print(f"wrote {weights}")
    return 0


def _project(args: argparse.Namespace) -> int:
    from engine.jobs import JobSpec
    from engine.jobs.kinds.dpo import param_specs

    job_names = {s.name for s in param_specs()}
    params = {k: v for k, v in values_of(args, _specs()).items() if k in job_names}
    params["device"] = args.device
    optional = {"dataset": args.dataset, "pair_selection": args.pair_selection, "checkpoint": args.base,
                "pairs": args.pairs or None,
                "out": None if args.out is None else str(args.out)}
    params.update({k: v for k, v in optional.items() if v is not None})
    with open_project(args.project) as project:
        result = run_in_foreground(project, JobSpec("dpo", params), "dpo")
        code = report_result(project, result, "dpo")
    if code:
        return code
    out = result.outputs
    print(f"trained on {out['pairs']} pairs; wrote {out['checkpoint']} (checkpoint {out['checkpoint_id']})")
    return 0
