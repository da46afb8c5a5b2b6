"""``adhmr init``: create an empty project file."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="create a new, empty project file",
        description=(
            "Create a project: one SQLite file (datasets, candidates, pairs, decisions, jobs)\n"
            "and a <name>_data folder beside it (checkpoints, job state). Refuses to\n"
            "overwrite anything that exists.\n\n"
            "examples:\n"
            "  adhmr init study.adhmr\n"
            "  adhmr import study.adhmr photos/ --name photos"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=Path, help="the project file to create (e.g. study.adhmr)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from engine.store import Project

    with Project.create(args.project) as project:
        print(f"created {project.path} (data folder {project.data_dir})")
    return 0
