"""``adhmr export``: preference pairs, cleaning decisions, or a (cleaned) dataset to files."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.jobs_cmd import open_project
from engine.data import formats

PAIR_STATUSES = ("proposed", "accepted", "rejected", "skipped", "both_bad")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export pairs (JSONL/npz), cleaning decisions (CSV) or a cleaned dataset",
        description=(
            "Write what a project holds to files for training and review elsewhere.\n"
            "  pairs     preference pairs with both parameter vectors: .jsonl or .npz\n"
            "  cleaning  the keep/drop decisions of a cleaning run (with overrides): .csv\n"
            "  dataset   a dataset in its own format (SPIN npz, ProHMR npz, COCO JSON), or the\n"
            "            one --format names; with --run, only the persons the run keeps.\n"
            "            A dataset from one unchanged annotation file is written from that\n"
            "            file's own rows, so nothing the project does not store is lost.\n\n"
            "examples:\n"
            "  adhmr export study.adhmr pairs --out pairs.jsonl\n"
            "  adhmr export study.adhmr pairs --out pairs.npz --status accepted\n"
            "  adhmr export study.adhmr cleaning --run 2 --out decisions.csv\n"
            "  adhmr export study.adhmr dataset --dataset coco-eft --run 2 --out coco_eft_clean.npz"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=Path, help="the project file")
    what = p.add_subparsers(dest="export_what", metavar="WHAT", required=True)
    pairs = what.add_parser("pairs", help="preference pairs as .jsonl or .npz (by --out's suffix)")
    pairs.add_argument("--out", type=Path, required=True)
    pairs.add_argument("--status", nargs="+", choices=PAIR_STATUSES, default=["proposed", "accepted"],
                       help="pair statuses to write (default: proposed accepted)")
    pairs.set_defaults(func=_pairs)
    cleaning = what.add_parser("cleaning", help="a cleaning run's decisions as CSV")
    cleaning.add_argument("--run", type=int, required=True, help="the cleaning run id")
    cleaning.add_argument("--out", type=Path, required=True)
    cleaning.set_defaults(func=_cleaning)
    dataset = what.add_parser("dataset", help="a dataset (cleaned with --run) in its own or another format")
    dataset.add_argument("--dataset", required=True, help="dataset name or id")
    dataset.add_argument("--out", type=Path, required=True)
    dataset.add_argument("--run", type=int, default=None, help="keep only the persons this cleaning run keeps")
    dataset.add_argument("--format", choices=formats.writable(), default=None,
                         help="output format (default: the dataset's own)")
    dataset.add_argument("--image-root", type=Path, default=None,
                         help="folder image names are written relative to (default: --out's folder)")
    dataset.set_defaults(func=_dataset)


def _pairs(args: argparse.Namespace) -> int:
    from engine.projects.exporting import export_pairs

    with open_project(args.project) as project:
        n = export_pairs(project, args.out, args.status)
    print(f"wrote {n} pairs to {args.out}")
    return 0


def _cleaning(args: argparse.Namespace) -> int:
    from engine.projects.exporting import export_cleaning

    with open_project(args.project) as project:
        n = export_cleaning(project, args.run, args.out)
    print(f"wrote {n} decisions to {args.out}")
    return 0


def _dataset(args: argparse.Namespace) -> int:
    from engine.projects.exporting import export_dataset

    ref = int(args.dataset) if args.dataset.isdigit() else args.dataset
    with open_project(args.project) as project:
        res = export_dataset(project, ref, args.out, args.run, args.format, args.image_root)
    how = "rows of the source file" if res.exact else "rebuilt from the project"
    print(f"wrote {res.written} of {res.total} persons to {res.path} ({res.format}, {how})")
    return 0
