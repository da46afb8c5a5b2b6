"""``adhmr train-scorer``: train the HMR-Scorer by pairwise ranking."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.cli.common import add_compute_options, apply_threads, seed_value
from engine.diffusion import DEFAULT_STEPS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-scorer",
        help="train the HMR-Scorer on labelled person crops",
        description=(
            "Train the HMR-Scorer with a pairwise ranking loss over the candidates of each image:\n"
            "ground truth, noisy copies of it (tiny to large noise on pose, orientation, shape and\n"
            "camera) and, with --base, samples of a base model; targets are each candidate's true\n"
            "MPJPE, PA-MPJPE and PVE. Needs SMPL pose and camera labels (SPIN/ProHMR .npz, COCO\n"
            "with SMPL fits, or `adhmr synth` output). Writes OUT.safetensors + OUT.json and\n"
            "OUT.train.pt (to resume) every --save-every steps and at the end; reports Spearman /\n"
            "Pearson correlation of score and error on held-out images (--val, or a share of --data).\n\n"
            "examples:\n"
            "  adhmr train-scorer --data synth/train.npz --val synth/val.npz --out resources/checkpoints/scorer\n"
            "  adhmr train-scorer --data train.npz --base runs/base --out runs/scorer --steps 20000\n"
            "  adhmr train-scorer --data train.npz --out runs/scorer --steps 40000 --resume"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, help="labelled training annotation file")
    p.add_argument("--val", default=None, help="labelled validation file (default: hold out part of --data)")
    p.add_argument("--base", default=None, help="base checkpoint whose samples join the candidates")
    p.add_argument("--out", type=Path, required=True, help="checkpoint path stem")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=8, help="images per step")
    p.add_argument("--candidates-per-image", type=int, default=16)
    p.add_argument("--base-candidates", type=int, default=4, help="of those, how many the base model samples")
    p.add_argument("--base-steps", type=int, default=DEFAULT_STEPS,
                   help="DDIM steps of the base model's samples (default: the samplers' default, so the scorer "
                        "learns on candidates like those it will rank)")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=200, help="warm-up steps")
    p.add_argument("--ema", type=float, default=0.0, help="EMA decay of the weights, e.g. 0.999 (0 = off)")
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--crop-size", type=int, default=None, help="default: the base model's, else 128")
    p.add_argument("--no-augment", action="store_true", help="train on the plain crops")
    p.add_argument("--workers", type=int, default=0, help="data loading processes")
    p.add_argument("--seed", type=seed_value, default=0)
    p.add_argument("--val-images", type=int, default=64)
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--save-every", type=int, default=500)
    p.add_argument("--resume", action="store_true", help="continue from OUT.train.pt")
    p.add_argument(
        "--init", default=None,
        help="scorer checkpoint to start from (fine-tune; same architecture, or fewer --layers: the new layers "
             "start as the identity)",
    )
    p.add_argument(
        "--error-weights", type=_error_weights, default={}, metavar="NAME=W[,NAME=W]",
        help="weight of each error's ranking term, e.g. PA-MPJPE=4 (others stay 1)",
    )
    p.add_argument("--include-pseudo", action="store_true", help="also train on labels marked 'pseudo'")
    p.add_argument("--detector-inputs", action="store_true",
                   help="also read the pose detector's world landmarks and keypoints (run `adhmr detect-dataset` "
                        "on --data and --val first)")
    p.add_argument("--sample-cache", default=None, metavar="FILE",
                   help="draw --cache-samples base samples per training person once into FILE (.npz; written on "
                        "first use, reused while the base checkpoint and the data are the same) and train from it")
    p.add_argument("--cache-samples", type=int, default=0,
                   help="samples per person in the cache (default: --base-candidates); each step takes a random "
                        "--base-candidates of them")
    p.add_argument("--cross-attention", action="store_true",
                   help="candidates cross-attend to one encoding per image (faster than the default architecture)")
    add_compute_options(p)
    p.set_defaults(func=_run)


def _error_weights(text: str) -> dict[str, float]:
    """'PA-MPJPE=4,PVE=0.5' -> {'PA-MPJPE': 4.0, 'PVE': 0.5} (names are checked by the config)."""
    out = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT, got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: the weight is not a number") from None
    return out


def _run(args: argparse.Namespace) -> int:
    apply_threads(args)
    from engine.cli.progress import TqdmProgress
    from engine.training.scorer_train import ScorerTrainConfig, train_scorer

    config = ScorerTrainConfig(
        data=args.data, val=args.val, base=args.base, out=str(args.out), steps=args.steps,
        batch_size=args.batch_size, candidates_per_image=args.candidates_per_image,
        base_candidates=args.base_candidates, base_steps=args.base_steps, lr=args.lr, warmup_steps=args.warmup,
        ema_decay=args.ema, width=args.width, layers=args.layers, heads=args.heads, crop_size=args.crop_size,
        augment=not args.no_augment, num_workers=args.workers, device=args.device, seed=args.seed,
        val_images=args.val_images, val_every=args.val_every, save_every=args.save_every, resume=args.resume,
        include_pseudo=args.include_pseudo, init=args.init, error_weights=args.error_weights,
        detector_inputs=args.detector_inputs, cross_attention=args.cross_attention,
        sample_cache=args.sample_cache, cache_samples=args.cache_samples,
    )
    with TqdmProgress("train-scorer") as bar:
        weights = train_scorer(config, bar)
    validation = json.loads(weights.with_suffix(".json").read_text()).get("validation") or {}
    for metric, c in validation.items():
        print(f"held-out scorer vs {metric}: SRCC {c['srcc']:.3f}, PLCC {c['plcc']:.3f}")
    print(f"wrote {weights}")
    return 0
