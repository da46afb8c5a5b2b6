"""``adhmr demo``: build a ready-to-open demo project."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="create a demo project with synthetic people, a real photo and candidates",
        description=(
            "Build a demo project in DIR from what this installation can make by itself:\n"
            "synthetic people rendered in the studio and wild domains (with exact 3D labels),\n"
            "the person photos installed packages ship (scikit-image's astronaut and\n"
            "cameraman) with detected keypoints, the bundled checkpoints when installed, and\n"
            "candidates sampled for every person with them. Takes a few seconds on a laptop.\n"
            "A complete demo in DIR is left as it is (use --force to build it again).\n\n"
            "examples:\n"
            "  adhmr demo ~/adhmr-demo\n"
            "  adhmr-gui ~/adhmr-demo/demo.adhmr\n"
            "  adhmr jobs ~/adhmr-demo/demo.adhmr list"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", type=Path, help="folder for the demo (created if missing)")
    p.add_argument("--force", action="store_true", help="rebuild a complete demo already in DIR")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from engine.cli.progress import TqdmProgress
    from engine.demo import create_demo_project, demo_exists, demo_project_path, read_summary

    if demo_exists(args.dir) and not args.force:
        print(f"{args.dir} already holds a complete demo, left as it is: {demo_project_path(args.dir)}")
        print("(use --force to build it again)")
        return 0
    with TqdmProgress("demo") as bar:
        path = create_demo_project(args.dir, progress=bar, force=args.force)
    summary = read_summary(args.dir)
    print(f"demo project: {path}")
    if summary is not None:
        for name, n in summary.datasets.items():
            print(f"  dataset {name}: {n} persons")
        print(f"  checkpoints: {', '.join(summary.checkpoints) or 'none'}; candidate runs: {summary.sampled}")
        for note in summary.notes:
            print(f"  note: {note}")
    print(f"open it with: adhmr-gui {path}")
    return 0
