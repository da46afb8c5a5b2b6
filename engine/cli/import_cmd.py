"""``adhmr import``: add annotation files and photos to a project as a dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.jobs_cmd import open_project, report_result, run_in_foreground
from engine.cli.person_options import add_person_thresholds, threshold_params
from engine.data import formats


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import SPIN/ProHMR npz, COCO JSON, photos or photo folders as a dataset, or candidates",
        description=(
            "Import files into a dataset of the project (created if missing; importing into an\n"
            "existing dataset adds what it does not hold yet). Annotation files keep their\n"
            "keypoints and 3D labels; photos go through the pose detector. Bad files and rows\n"
            "are listed with their reason and the rest is imported. Runs as an 'import' job: if\n"
            "it is interrupted, 'adhmr jobs PROJECT resume ID' finishes it without duplicates.\n"
            "Exit status 0 when the dataset holds something from these paths, 1 when nothing\n"
            "could be imported.\n\n"
            "--candidates FILE instead imports candidate bodies computed elsewhere (npz or JSONL,\n"
            "see README 'Models from outside') as one sample run per person, all or nothing.\n\n"
            "examples:\n"
            "  adhmr import study.adhmr data/coco_eft.npz --name coco-eft --label-kind pseudo\n"
            "  adhmr import study.adhmr person_keypoints_val2017.json --format coco\n"
            "  adhmr import study.adhmr photos/ --name photos\n"
            "  adhmr import study.adhmr photos/ --name photos --no-detect  # detect later\n"
            "  adhmr import study.adhmr --candidates my_model_outputs.jsonl"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=Path, help="the project file")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files and folders to import")
    p.add_argument("--candidates", type=Path, default=None, metavar="FILE",
                   help="a candidates file (.npz or .jsonl) to import as sample runs, instead of PATHs")
    p.add_argument("--name", default=None, help="dataset name (default: the first path's name)")
    p.add_argument("--format", default="auto", choices=("auto", *formats.readable(), "images"),
                   help="file format (default: by suffix and content)")
    p.add_argument("--image-root", default=None, help="folder annotation image names are relative to")
    p.add_argument("--label-kind", default=None, choices=("gt", "pseudo"),
                   help="kind of 3D labels whose file does not say")
    p.add_argument("--no-detect", action="store_true",
                   help="add photos without detecting persons ('adhmr detect --project' does it later)")
    add_person_thresholds(p)
    p.set_defaults(func=_run, import_parser=p)


def _run(args: argparse.Namespace) -> int:
    from engine.jobs import JobSpec

    if args.candidates is not None:
        if args.paths:
            args.import_parser.error("give PATHs or --candidates FILE, not both")
        return _import_candidates(args)
    if not args.paths:
        args.import_parser.error("give PATHs to import or --candidates FILE")

    params = {
        "paths": [str(p.absolute()) for p in args.paths],
        "name": args.name,
        "format": args.format,
        "image_root": None if args.image_root is None else str(Path(args.image_root).absolute()),
        "label_kind": args.label_kind,
        "detect": not args.no_detect,
        **threshold_params(args),
    }
    with open_project(args.project) as project:
        result = run_in_foreground(project, JobSpec("import", params), "import")
        code = report_result(project, result, "import")
    if code:
        return code
    out = result.outputs
    for where, why in out["rejected"]:
        print(f"rejected {where}: {why}")
    print(
        f"dataset {out['dataset']!r} ({out['format'] or 'nothing readable'}): {out['images']} images and "
        f"{out['persons']} persons imported, {out['already']} images already there, "
        f"{len(out['rejected'])} files or rows rejected"
    )
    if out["images"] + out["already"] == 0:
        print("adhmr import: error: nothing could be imported", file=sys.stderr)
        return 1
    return 0


def _import_candidates(args: argparse.Namespace) -> int:
    from engine.projects.importing_candidates import import_candidates

    with open_project(args.project) as project:
        out = import_candidates(project, args.candidates, args.name)
    print(
        f"dataset {out.dataset!r}: {out.candidates} candidates in {out.runs} sample runs imported "
        f"({out.images} new images, {out.persons} new persons, {out.already} runs already there)"
    )
    return 0
