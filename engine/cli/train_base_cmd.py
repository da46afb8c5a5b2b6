"""``adhmr train-base``: train the diffusion HMR base model."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine.cli.common import add_compute_options, apply_threads, seed_value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-base",
        help="train the diffusion HMR base model on person crops",
        description=(
            "Train the diffusion HMR base model on any dataset the engine reads (SPIN/ProHMR .npz,\n"
            "COCO .json, photo folders). Writes OUT.safetensors + OUT.json (the EMA weights) and\n"
            "OUT.train.pt (to resume) every --save-every steps and at the end.\n\n"
            "examples:\n"
            "  adhmr train-base --data synth/train.npz --val synth/val.npz --out resources/checkpoints/base\n"
            "  adhmr train-base --data train.npz --out runs/base --steps 50000 --resume\n"
            "  torchrun --nproc_per_node=4 -m engine.cli train-base --data train.npz --out runs/base --device cuda --amp"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", nargs="+", required=True, help="training annotation files or folders")
    p.add_argument("--val", nargs="*", default=[], help="validation annotation files or folders")
    p.add_argument("--image-root", default=None, help="folder image names are relative to (default: each file's folder)")
    p.add_argument("--out", type=Path, required=True, help="checkpoint path stem")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch-size", type=int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--warmup", type=int, default=500, help="warm-up steps")
    p.add_argument("--crop-size", type=int, default=128)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--no-augment", action="store_true", help="train on the plain crops")
    p.add_argument("--image-dropout", type=float, default=0.0,
                   help="share of people trained on a blank crop, so the model also answers from the detector alone")
    p.add_argument("--detector-inputs", action="store_true",
                   help="condition on the pose detector's world landmarks and keypoints (run `adhmr detect-dataset` "
                        "on each annotation file first)")
    p.add_argument("--workers", type=int, default=2, help="data loading processes")
    p.add_argument("--amp", action="store_true", help="mixed precision (bf16, or fp16 with loss scaling)")
    add_compute_options(p)
    p.add_argument("--seed", type=seed_value, default=0)
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--val-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--resume", action="store_true", help="continue from OUT.train.pt")
    p.add_argument("--init", default=None, help="start from this base checkpoint's weights, with a fresh schedule")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from engine.cli.progress import TqdmProgress
    from engine.training.base_train import BaseTrainConfig, train_base

    apply_threads(args)
    config = BaseTrainConfig(
        data=tuple(args.data), val=tuple(args.val), image_root=args.image_root, out=str(args.out),
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, warmup_steps=args.warmup,
        crop_size=args.crop_size, width=args.width, layers=args.layers, heads=args.heads,
        augment=not args.no_augment, detector_inputs=args.detector_inputs, image_dropout=args.image_dropout, workers=args.workers, amp=args.amp, device=args.device, seed=args.seed,
        resume=args.resume, init=args.init, save_every=args.save_every, val_every=args.val_every, log_every=args.log_every,
    )
    if int(os.environ.get("RANK", "0")) != 0:
        # Under torchrun only rank 0 reports and writes.
        train_base(config)
        return 0
    with TqdmProgress("train-base") as bar:
        weights = train_base(config, bar)
    print(f"wrote {weights}")
    return 0
