"""``adhmr eval``: the multi-hypothesis report of a model on labelled images."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from engine.cli.common import add_compute_options, add_consensus_option, apply_threads
from engine.cli.param_options import add_param_options
from engine.cli.guidance_option import add_fit_start_option, add_guidance_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a base/DPO model (and a scorer) on labelled images",
        description=(
            "Sample M hypotheses per labelled person, score them, and report MPJPE, PA-MPJPE and PVE\n"
            "(mm) four ways: Min (oracle best of M), Select (the scorer's top-k), Zero-noise\n"
            "(hypothesis 0) and Mean (of all M), plus a mean-pose baseline (the training-set mean\n"
            "parameters) and the scorer's Spearman / Pearson correlation with each error, among the\n"
            "M samples and on a mixed set (ground truth + 7 noisy copies + 8 samples per person).\n"
            "A person's samples are ranked by the scorer's network plus its sample-consensus term\n"
            "(samples that agree with their siblings gain); --no-consensus leaves the term out.\n\n"
            "examples:\n"
            "  adhmr eval --checkpoint runs/base --scorer runs/scorer --data synth/val.npz\n"
            "  adhmr eval --checkpoint runs/dpo --data 3dpw_test.npz -M 100 --top-k 5 --json dpo.json\n"
            "  adhmr eval --data val.npz --max-images 200 --no-scorer"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--checkpoint", default=None, help="base or DPO checkpoint (default: resources/checkpoints/base)")
    p.add_argument("--scorer", default=None, help="scorer checkpoint (default: resources/checkpoints/scorer)")
    p.add_argument("--no-scorer", action="store_true", help="evaluate without a scorer (no Select row)")
    p.add_argument("--no-mixed", action="store_true",
                   help="skip the scorer's correlation on ground truth + noisy copies + samples")
    add_consensus_option(p)
    add_guidance_option(p)
    p.add_argument("--fit", action="store_true",
                   help="fit the body to each person's detected evidence and add it as the last hypothesis, the "
                        "samples starting from it (--fit-start), as adhmr sample does")
    add_fit_start_option(p)
    p.add_argument("--data", required=True, help="labelled annotation file (SMPL pose; betas where known)")
    add_param_options(p, _specs(), extra_flags={"num_candidates": ("--hypotheses",)})
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    add_compute_options(p)
    p.set_defaults(func=_run)


def _specs() -> tuple:
    """The eval job's sampling and batching parameters (the same names, defaults and bounds)."""
    from engine.jobs.kinds import _params as P
    from engine.jobs.kinds.evaluate import param_specs

    return P.pick(param_specs(), "num_candidates", "top_k", "steps", "max_images", "seed", "batch_size")


def _run(args: argparse.Namespace) -> int:
    apply_threads(args)
    from engine.cli.progress import TqdmProgress
    from engine.evaluation import evaluate
    from engine.models.sample_settings import SampleSettings

    with TqdmProgress("eval") as bar:
        settings = SampleSettings(num_candidates=args.num_candidates, steps=args.steps, seed=args.seed,
                                  consensus=not args.no_consensus, device=args.device or "auto",
                                  guidance_scale=args.guidance, guidance_world=args.guidance_world,
                                  orient=not args.no_orient, fit_start=args.fit_start)
        result = evaluate(
            args.checkpoint, args.scorer, args.data, settings, top_k=args.top_k, max_images=args.max_images,
            batch_size=args.batch_size, use_scorer=not args.no_scorer, mixed=not args.no_mixed, progress=bar,
            with_fit=args.fit,
        )
    print(result.to_markdown())
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.json.with_name(args.json.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(result.to_dict(), indent=1))
        tmp.replace(args.json)
        print(f"wrote {args.json}")
    return 0
