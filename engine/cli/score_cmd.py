"""``adhmr score``: score (or re-score) the candidates that ``adhmr sample`` wrote."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np

from engine.cli.common import add_compute_options, add_consensus_option

if TYPE_CHECKING:
    from engine.body.model import BodyModel
    from engine.models.protocols import Scorer

REQUIRED = {"params": 2, "crop_center": 1, "crop_size": 0, "detected_keypoints_px": 2}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score the candidates of a candidates.npz with the HMR-Scorer",
        description=(
            "Score each candidate of a candidates.npz written by `adhmr sample` against its photo\n"
            "(the same crop and detected keypoints the sampler used) and write the scores back,\n"
            "with the ranking in candidates.json beside it. Re-scores with another scorer too.\n\n"
            "examples:\n"
            "  adhmr score out/photo --photo photo.jpg\n"
            "  adhmr score out/photo/candidates.npz --photo photo.jpg --scorer runs/scorer --out rescored.npz\n"
            "  adhmr score out/photo --photo photo.jpg --scorer mymodel  # a plug-in"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("candidates", type=Path, help="candidates.npz, or the folder holding it")
    p.add_argument("--photo", type=Path, required=True, help="the photo the candidates were sampled from")
    p.add_argument("--scorer", default=None, metavar="NAME_OR_CHECKPOINT",
                   help="a scorer plug-in's name ('adhmr.scorers' entry points), else a checkpoint of the "
                        "built-in scorer (default: resources/checkpoints/scorer)")
    p.add_argument("--out", type=Path, default=None, help="write here instead of updating the file in place")
    p.add_argument("--top", type=int, default=5, help="how many of the best to list")
    add_consensus_option(p)
    add_compute_options(p, device_default="cpu")
    p.set_defaults(func=_run)


def read_candidates(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a candidates.npz, checked. Raises DataError."""
    from engine.errors import DataError

    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: numpy and zipfile raise many types
        raise DataError(f"{path}: not a readable candidates .npz ({type(exc).__name__})") from None
    for key, ndim in REQUIRED.items():
        if key not in arrays or arrays[key].ndim != ndim or arrays[key].dtype.kind != "f":
            raise DataError(f"{path}: '{key}' is missing or malformed (write the file with `adhmr sample`)")
        if not np.isfinite(arrays[key]).all():
            raise DataError(f"{path}: '{key}' holds NaN or infinite values")
    if arrays["params"].shape[0] == 0:
        raise DataError(f"{path}: holds no candidates")
    if arrays["detected_keypoints_px"].shape != (17, 3):
        raise DataError(f"{path}: 'detected_keypoints_px' must be (17, 3)")
    if "landmarks" in arrays and (arrays["landmarks"].shape != (33, 6) or arrays["landmarks"].dtype.kind != "f"
                                  or not np.isfinite(arrays["landmarks"]).all()):
        raise DataError(f"{path}: 'landmarks' must be finite (33, 6) numbers")
    return arrays


def score_file(path: Path, photo: Path, scorer: Scorer, body: BodyModel, consensus: bool = True) -> np.ndarray:
    """(M,) scores of the candidates in ``path`` against ``photo`` (consensus: compare them
    with each other, the scorer's sample-consensus term). Any Scorer (plug-ins too)."""
    import torch

    from engine.data.crops import CropTransform, crop_image, transform_keypoints
    from engine.data.dataset import normalise_image
    from engine.errors import DataError
    from engine.image_io import load_image
    from engine.models.candidates import decode_candidates
    from engine.models.consensus import mean_sibling_distance
    from engine.models.param_layout import ParamLayout

    arrays = read_candidates(path)
    layout = ParamLayout()
    params = torch.from_numpy(arrays["params"].astype(np.float32))[None]
    if params.shape[-1] != layout.dim:
        raise DataError(f"{path}: candidates have {params.shape[-1]} parameters, expected {layout.dim}")
    center, size = arrays["crop_center"].astype(np.float64), float(arrays["crop_size"])
    crop = CropTransform(center, size, scorer.crop_size)
    image = normalise_image(crop_image(load_image(photo), crop))[None].to(scorer.device)
    keypoints = torch.from_numpy(transform_keypoints(arrays["detected_keypoints_px"], crop))[None].to(scorer.device)
    cands = decode_candidates(params, layout, body, torch.tensor(center[None], dtype=torch.float32),
                              torch.tensor([size]), with_vertices=False)
    with torch.no_grad():
        # A detector-conditioned scorer reads the landmarks `adhmr sample` kept (none: 'not found').
        extra = {}
        if getattr(scorer, "detector_inputs", False) and "landmarks" in arrays:
            extra["landmarks"] = torch.from_numpy(np.asarray(arrays["landmarks"], np.float32))[None].to(scorer.device)
        logits = scorer.candidate_logits(image, keypoints, cands, **extra)
        # Procrustes needs float32 SVDs (as in engine.models.sample_and_score).
        sibling = mean_sibling_distance(cands.joints.float()) if consensus else None
        return scorer.scores_from_logits(logits, sibling)[0].float().cpu().numpy()


def _write(path: Path, source: Path, scores: np.ndarray) -> None:
    with np.load(source, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["scores"] = scores.astype(np.float32)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    tmp.replace(path)


def _update_json(path: Path, scores: np.ndarray, order: np.ndarray) -> bool:
    if not path.is_file():
        return False
    try:
        doc = json.loads(path.read_text())
        rank = {int(m): r + 1 for r, m in enumerate(order)}
        doc["scored"] = True
        doc["candidates"] = [{"index": m, "score": float(s), "rank": rank[m]} for m, s in enumerate(scores)]
    except (OSError, ValueError, TypeError, AttributeError):
        return False
    path.write_text(json.dumps(doc, indent=1))
    return True


def _run(args: argparse.Namespace) -> int:
    from engine.body.model import BodyModel
    from engine.cli.plugin_options import load_scorer_option
    from engine.devices import check_device

    src = args.candidates / "candidates.npz" if args.candidates.is_dir() else args.candidates
    args.device = str(check_device(args.device))  # "auto" becomes the device it means here
    body = BodyModel(device=args.device)
    scorer = load_scorer_option(args.scorer, body, args.device)
    scores = score_file(src, args.photo, scorer, body, consensus=not args.no_consensus)
    order = np.argsort(-scores, kind="stable")
    dst = args.out or src
    _write(dst, src, scores)
    print(f"{len(scores)} candidates scored; best first:")
    for r, m in enumerate(order[: max(args.top, 0)]):
        print(f"  {r + 1:>3}. #{int(m)}  score {scores[m]:.3f}")
    print(f"wrote {dst}")
    if args.out is None and _update_json(src.with_name("candidates.json"), scores, order):
        print(f"updated {src.with_name('candidates.json')}")
    return 0
