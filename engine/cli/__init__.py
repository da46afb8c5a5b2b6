"""The ``adhmr`` command line.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds a parser whose ``func(args) -> int`` does the work.
Exit codes: 0 ok, 2 usage, 1 failure with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from engine.errors import AdhmrError

# Module names under engine.cli, in the order they appear in --help.
COMMAND_MODULES = (
    "init_cmd", "import_cmd", "detect_cmd", "detect_dataset_cmd", "synth_cmd", "fit_cmd", "sample_cmd", "score_cmd", "pairs_cmd",
    "dpo_cmd", "clean_cmd", "train_base_cmd", "train_scorer_cmd", "eval_cmd", "eval_multiview_cmd", "export_cmd",
    "render_cmd",
    "experiment_cmd", "jobs_cmd", "demo_cmd", "body_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adhmr",
        description="ADHMR Studio: diffusion human mesh recovery aligned with preference optimisation.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"engine.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"engine.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AdhmrError as exc:
        print(f"adhmr {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"adhmr {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
