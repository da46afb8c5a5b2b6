"""``adhmr clean``: drop the pseudo-labels the HMR-Scorer ranks lowest."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.common import device_name
from engine.cli.jobs_cmd import open_project, report_result, run_in_foreground
from engine.cli.param_options import add_param_options


def _override(text: str) -> tuple[int, bool]:
    index, sep, call = text.partition("=")
    if not sep or not index.isdigit() or call not in ("keep", "drop"):
        raise argparse.ArgumentTypeError(f"--override expects ROW=keep or ROW=drop, got {text!r}")
    return int(index), call == "keep"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clean",
        help="score a dataset's pseudo-labels with the scorer and keep the best",
        description=(
            "Score each person's 3D pseudo-label with the HMR-Scorer (the label as the one\n"
            "candidate of its image), rank, and keep the top --keep fraction or those scoring\n"
            "at least --threshold. --override ROW=keep|drop overrules the scorer for a row;\n"
            "--decisions writes every call as CSV for review. The kept people are written in\n"
            "the input's own format. With --project and --dataset, the calls are recorded as a\n"
            "cleaning run of the project (review and override them in the app).\n\n"
            "examples:\n"
            "  adhmr clean --data pseudo.npz --out cleaned.npz --keep 0.8\n"
            "  adhmr clean --data coco_pseudo.json --out kept.json --threshold 0.6 --decisions calls.csv\n"
            "  adhmr clean --data pseudo.npz --out cleaned.npz --keep 0.8 --override 12=keep --override 40=drop\n"
            "  adhmr clean --project study.adhmr --dataset pseudo --keep 0.6"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", type=Path, default=None, help="annotation file with pseudo-labels")
    p.add_argument("--out", type=Path, default=None, help="cleaned annotation file (same format)")
    p.add_argument("--project", type=Path, default=None, help="a project (with --dataset)")
    p.add_argument("--dataset", default=None, help="the project's dataset")
    add_param_options(p.add_mutually_exclusive_group(), _rule_specs(), extra_flags={"keep_fraction": ("--keep",)})
    p.add_argument("--scorer", default=None, help="scorer checkpoint (default: resources/checkpoints/scorer)")
    p.add_argument("--override", type=_override, action="append", default=[], metavar="ROW=keep|drop")
    p.add_argument("--decisions", type=Path, default=None, help="write every call as CSV")
    p.add_argument("--device", type=device_name, default=None)
    p.set_defaults(func=_run, parser=p)


def _rule_specs() -> tuple:
    """The clean job's rule: keep_fraction (its default) or threshold."""
    from engine.jobs.kinds import _params as P
    from engine.jobs.kinds.clean import param_specs

    return P.pick(param_specs(), "keep_fraction", "threshold")


def _run(args: argparse.Namespace) -> int:
    from engine.training.cleaning import CleaningRule

    rule = CleaningRule(threshold=args.threshold) if args.threshold is not None else \
        CleaningRule(keep_fraction=args.keep_fraction)
    if args.project is not None or args.dataset is not None:
        if args.project is None or args.dataset is None or args.data or args.out or args.override:
            args.parser.error("--project needs --dataset (and no --data, --out or --override)")
        return _project(args, rule)
    if args.data is None or args.out is None:
        args.parser.error("give --data and --out (or --project and --dataset)")
    from engine.cli.progress import TqdmProgress
    from engine.training.cleaning import clean_file

    with TqdmProgress("clean") as bar:
        result = clean_file(args.data, args.out, rule, scorer=args.scorer, overrides=dict(args.override),
                            decisions_csv=args.decisions, device=args.device, progress=bar)
    s = result.summary()
    print(f"{rule.describe()}: kept {s['kept']} of {s['people']} ({s['overridden']} overridden, "
          f"{s['unscored']} without a label kept); wrote {args.out}")
    if args.decisions is not None:
        print(f"wrote {args.decisions}")
    return 0


def _project(args: argparse.Namespace, rule) -> int:
    from engine.jobs import JobSpec

    params = {"dataset": args.dataset}
    params.update({"keep_fraction": rule.keep_fraction} if rule.keep_fraction is not None else
                  {"threshold": rule.threshold})
    if args.scorer is not None:
        params["scorer"] = args.scorer
    if args.device is not None:
        params["device"] = args.device
    with open_project(args.project) as project:
        result = run_in_foreground(project, JobSpec("clean", params), "clean")
        code = report_result(project, result, "clean")
    if code:
        return code
    out = result.outputs
    print(f"dataset {out['dataset']!r}: cleaning run {out['cleaning_run']} keeps {out['kept']} of {out['scored']} "
          "scored persons")
    return 0
