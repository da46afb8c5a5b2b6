"""``adhmr experiment``: reproduce the paper's findings on the synthetic benchmark and on real footage."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.common import add_compute_options, apply_threads


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "experiment",
        help="run the paper's three findings in miniature and write a report",
        description=(
            "On synthetic wild images (rendered into --cache once), with the given base model\n"
            "(trained on studio images) and scorer, measure over several seeds: (1) scorer\n"
            "selection vs zero-noise and mean hypotheses, (2) DPO with scorer-built pairs from\n"
            "unlabelled images vs the base model and a 2D-reprojection fine-tuning control,\n"
            "(3) fine-tuning on the scorer's cleaned pseudo-labels vs all of them.\n"
            "The real track (--track real) does the same on Pose2Sim's four-camera recording\n"
            "(fetched once with pip into the user cache, or --recording DIR): unlabelled pool =\n"
            "frames 0-59 of every camera (pairs; fit pseudo-labels for cleaning), test = frames\n"
            "60-99 against the body triangulated from all cameras. Writes findings.md and\n"
            "findings.json into --out (a track run alone keeps the other's findings there).\n"
            "A stopped run resumes (stage results are kept in --cache). Budgets: tiny (tests),\n"
            "small (a CPU), medium and large (a GPU); --set NAME=VALUE\n"
            "overrides one setting of the budget (of each track that has it).\n\n"
            "examples:\n"
            "  adhmr experiment --budget small --out docs/\n"
            "  adhmr experiment --track real --budget small --out docs/\n"
            "  adhmr experiment --budget medium --device cuda --out results/\n"
            "  adhmr experiment --budget small --set dpo_steps=300 --set seeds=5 --out results/"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--track", default="both", choices=("synthetic", "real", "both"),
                   help="synthetic wild renders, the real recording, or both (default)")
    p.add_argument("--budget", default="small", choices=("tiny", "small", "medium", "large"))
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a budget setting")
    p.add_argument("--base", default=None, help="base checkpoint (default: resources/checkpoints/base)")
    p.add_argument("--scorer", default=None, help="scorer checkpoint (default: resources/checkpoints/scorer)")
    p.add_argument("--cache", type=Path, default=Path("data/experiment"), help="data and work folder")
    p.add_argument("--out", type=Path, default=None, help="where findings.md/.json go (default: the work folder)")
    p.add_argument("--workers", type=int, default=1, help="rendering processes for the synthetic data")
    p.add_argument("--recording", type=Path, default=None,
                   help="the real track's Pose2Sim Demo_SinglePerson folder (default: fetched into the user cache)")
    add_compute_options(p)
    p.set_defaults(func=_run, parser=p)


def _run(args: argparse.Namespace) -> int:
    import json

    from engine.cli.progress import TqdmProgress
    from engine.errors import DataError
    from engine.experiments import ExperimentConfig, get_budget, run_experiment
    from engine.experiments.budgets import Budget, RealBudget, get_real_budget
    from engine.experiments.real_runner import run_real_experiment

    apply_threads(args)
    overrides = {}
    for item in args.set:
        name, sep, raw = item.partition("=")
        if not sep:
            args.parser.error(f"--set expects NAME=VALUE, got {item!r}")
        try:
            overrides[name] = json.loads(raw)
        except ValueError:
            overrides[name] = raw
    tracks = ("synthetic", "real") if args.track == "both" else (args.track,)
    budgets: dict[str, Budget | RealBudget] = {"synthetic": get_budget(args.budget),
                                                "real": get_real_budget(args.budget)}
    known = {t: {k: v for k, v in overrides.items() if k in budgets[t].to_dict()} for t in tracks}
    unknown = sorted(set(overrides) - {k for t in tracks for k in known[t]})
    if unknown:
        raise DataError(f"experiment budget: unknown setting {', '.join(unknown)}")
    name = args.budget if not overrides else f"{args.budget}+custom"
    recording = args.recording
    if "real" in tracks and recording is None:
        from engine.multiview.pose2sim_demo import default_data_dir, fetch_demo

        recording = fetch_demo(default_data_dir())  # before any work: a failed download stops here
    runs = {"synthetic": run_experiment, "real": run_real_experiment}
    for track in tracks:
        config = ExperimentConfig(budgets[track].with_overrides(known[track]), name, base=args.base,
                                  scorer=args.scorer, cache_dir=str(args.cache),
                                  out_dir=None if args.out is None else str(args.out), device=args.device,
                                  workers=args.workers, recording=None if recording is None else str(recording))
        with TqdmProgress(f"experiment ({track})") as bar:
            findings = runs[track](config, bar)
        for key in ("finding1", "finding2", "finding3"):
            f = findings[key]
            print(f"{track}: {f['title']}: {f['verdict']}")
        out = args.out or Path(findings["settings"]["work"])
        print(f"wrote {out / 'findings.md'} and {out / 'findings.json'}")
    return 0
