"""``adhmr pairs``: preference pairs for DPO, from image files or in a project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.cli.common import add_compute_options, apply_threads
from engine.cli.jobs_cmd import open_project, report_result, run_in_foreground
from engine.cli.param_options import add_param_options, values_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pairs",
        help="build preference pairs (scorer-ranked candidates) for DPO fine-tuning",
        description=(
            "Sample M candidate bodies per person with the base model, score them with the\n"
            "HMR-Scorer, and pair winners from the top of the ranking with losers from the\n"
            "bottom (at least --min-margin apart in log-odds). No 3D labels are needed. Writes\n"
            "JSONL (one pair a line, readable by any DPO trainer) or npz, by --out's suffix.\n"
            "--merge adds pair files (e.g. hand-made ones): a manual decision overrules the\n"
            "automatic pair of the same two candidates. With --project and --dataset, pairs\n"
            "are proposed in the project from its sampled and scored candidates instead.\n\n"
            "examples:\n"
            "  adhmr pairs --data wild/annotations.npz --out pairs.jsonl -M 50 --pairs-per-image 4\n"
            "  adhmr pairs --data photos/ --base runs/base --scorer runs/scorer --out pairs.npz\n"
            "  adhmr pairs --merge pairs.jsonl manual.jsonl --out merged.jsonl\n"
            "  adhmr pairs --project study.adhmr --dataset wild --out wild-pairs.jsonl"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", nargs="+", default=None, help="annotation files, photo folders or photos")
    p.add_argument("--project", type=Path, default=None, help="a project (with --dataset)")
    p.add_argument("--dataset", default=None, help="the project's dataset")
    p.add_argument("--out", type=Path, default=None, help="pairs file to write (.jsonl or .npz)")
    p.add_argument("--merge", nargs="+", default=[], help="pair files to merge into --out")
    p.add_argument("--base", default=None, help="base/DPO checkpoint (default: resources/checkpoints/base)")
    p.add_argument("--scorer", default=None, help="scorer checkpoint (default: resources/checkpoints/scorer)")
    add_param_options(p, _specs(), extra_flags={"num_candidates": ("--candidates",),
                                                "pairs_per_image": ("--per-image",)})
    p.add_argument("--max-images", type=int, default=None, help="use the first N people only")
    add_compute_options(p)
    p.set_defaults(func=_run, parser=p)


def _specs() -> tuple:
    from engine.params import describe
    from engine.training.pairs import PairConfig

    return describe(PairConfig)


def _config(args: argparse.Namespace):
    from engine.training.pairs import PairConfig

    return PairConfig(**values_of(args, _specs()))


def _run(args: argparse.Namespace) -> int:
    if args.project is not None or args.dataset is not None:
        if args.project is None or args.dataset is None or args.data:
            args.parser.error("--project needs --dataset (and no --data)")
        return _project(args)
    if args.out is None:
        args.parser.error("--out is required")
    if not args.data and not args.merge:
        args.parser.error("give --data (to build pairs) or --merge (pair files)")
    return _files(args)


def _files(args: argparse.Namespace) -> int:

    from engine.training.pair_io import load_pairs, save_pairs
    from engine.training.pairs import merge_pairs

    apply_threads(args)
    pairs = []
    if args.data:
        pairs = _build(args)
        if not pairs:
            print(f"no winner outscored its loser by --min-margin {args.min_margin:g}: this scorer's scores may sit "
                  "close together (it is trained to rank); try --min-margin 0", file=sys.stderr)
    merged = merge_pairs(pairs + load_pairs(args.merge))
    n = save_pairs(args.out, merged)
    print(f"wrote {n} pairs to {args.out}")
    return 0


def _build(args: argparse.Namespace) -> list:
    from engine.body.model import BodyModel
    from engine.cli.progress import TqdmProgress
    from engine.data.load import load_dataset
    from engine.errors import DataError
    from engine.models.checkpoint import checkpoint_paths
    from engine.models.diffusion_hmr import DEFAULT_CHECKPOINT, DiffusionHMR
    from engine.models.scorer import DEFAULT_SCORER_PATH, HMRScorer
    from engine.training.base_data import load_training_records
    from engine.training.pairs import build_pairs
    from engine.devices import pick_device

    config = _config(args)
    dev = pick_device(args.device)
    body = BodyModel(device=dev)
    base_path = checkpoint_paths(args.base or DEFAULT_CHECKPOINT)[0]
    scorer_path = checkpoint_paths(args.scorer or DEFAULT_SCORER_PATH)[0]
    base = DiffusionHMR.load(base_path, body=body, device=dev)
    scorer = HMRScorer.load(scorer_path, body=body, device=dev)
    detections = None
    if base.detector_inputs or scorer.detector_inputs:
        # Each file's detector cache (`adhmr detect-dataset`), or what photos carry.
        records, every = load_training_records(list(args.data), None, True)
        assert every is not None  # asked for
        records, detections = records[: args.max_images], every.head(args.max_images)
    else:
        loaded = load_dataset(args.data)
        records = loaded.records[: args.max_images]
        if not records:
            why = f" ({loaded.rejected[0][0]}: {loaded.rejected[0][1]})" if loaded.rejected else ""
            raise DataError(f"{', '.join(args.data)}: no people found{why}")
    with TqdmProgress("pairs") as bar:
        return build_pairs(records, base, scorer, body, config, str(base_path), str(scorer_path), bar,
                           detections=detections)


def _project(args: argparse.Namespace) -> int:
    from engine.jobs import JobSpec

    config = _config(args)
    params = {"dataset": args.dataset, "min_margin": config.min_margin, "pairs_per_image": config.pairs_per_image,
              "top_k": config.top_k, "bottom_k": config.bottom_k}
    if args.out is not None:
        params["export"] = str(args.out)
    with open_project(args.project) as project:
        result = run_in_foreground(project, JobSpec("pairs", params), "pairs")
        code = report_result(project, result, "pairs")
    if code:
        return code
    out = result.outputs
    print(f"dataset {out['dataset']!r}: {out['added']} new pairs ({out['proposed']} proposed) for "
          f"{out['persons']} persons; {out['unscored']} sample runs without scores")
    if "export" in out:
        print(f"wrote {out['exported']} training pairs to {out['export']}")
    return 0
