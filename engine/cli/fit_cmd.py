"""``adhmr fit``: the body fitted to every person of photos, or pseudo-labels for a dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engine.cli.common import add_compute_options, apply_threads
from engine.cli.jobs_cmd import open_project, report_result, run_in_foreground


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit",
        help="fit the body to the detected people of photos (or pseudo-label a project's dataset)",
        description=(
            "SMPLify-style fit of the body to each person's detected COCO-17 keypoints and\n"
            "BlazePose world landmarks (see README, Fitting). For photos: detect every person,\n"
            "fit them all at once, and write OUT/<photo stem>/fit.npz (parameters in the\n"
            "diffusion model's layout, axis-angle pose, betas, camera, crops, keypoints) and\n"
            "fit.json (per person: box, reprojection error). With --project and --dataset:\n"
            "store a fit as the pseudo-label (kind 'pseudo') of every person of that dataset\n"
            "without a label, as a resumable 'fit' job.\n\n"
            "examples:\n"
            "  adhmr fit photo.jpg --out out/fit\n"
            "  adhmr fit a.jpg b.jpg --out out/fit --no-world\n"
            "  adhmr fit --project study.adhmr --dataset photos"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("photos", nargs="*", type=Path, help="photos to fit")
    p.add_argument("--out", type=Path, default=None, help="output folder (with photos)")
    p.add_argument("--project", type=Path, default=None, help="a project (with --dataset)")
    p.add_argument("--dataset", default=None, help="the project's dataset whose people to pseudo-label")
    p.add_argument("--replace", action="store_true", help="also refit people whose label is a pseudo-label")
    p.add_argument("--no-world", action="store_true", help="fit the 2D keypoints only, not the world landmarks")
    p.add_argument("--steps", type=int, default=None, help="body optimisation steps (default 120)")
    add_compute_options(p, device_default="cpu")
    p.set_defaults(func=_run, parser=p)


def _run(args: argparse.Namespace) -> int:
    if args.steps is not None and args.steps < 1:
        args.parser.error("--steps must be at least 1")
    apply_threads(args)
    if args.photos and args.project is None and args.dataset is None:
        if args.out is None:
            args.parser.error("photos need --out")
        return _photos(args)
    if not args.photos and args.project is not None and args.dataset is not None:
        if args.out is not None:
            args.parser.error("--out applies to photos, not to --project")
        return _dataset(args)
    args.parser.error("give PHOTOS with --out, or --project and --dataset")
    return 2


def _config(args: argparse.Namespace):
    from dataclasses import replace

    from engine.fitting import FitConfig

    return FitConfig() if args.steps is None else replace(FitConfig(), body_steps=args.steps)


def _photos(args: argparse.Namespace) -> int:
    from engine.body.model import BodyModel
    from engine.detect import PoseDetector, detect_all_file
    from engine.errors import NoPersonError
    from engine.fitting import fit_people
    from engine.output_files import atomic_output, check_output

    check_output(args.out, inputs=args.photos)
    body = BodyModel(device=args.device)
    detector = PoseDetector()
    failed = 0
    for photo in args.photos:
        try:
            found = detect_all_file(photo, detector)
        except NoPersonError as exc:
            print(f"no person: {exc}")
            failed += 1
            continue
        people = found.persons
        world = None if args.no_world else np.stack([np.asarray(d.world_landmarks, np.float64) for d in people])
        fit = fit_people(np.stack([d.keypoints for d in people]), np.array([d.box for d in people]), body,
                         world_landmarks=world, config=_config(args))
        out = args.out / photo.stem
        out.mkdir(parents=True, exist_ok=True)
        c = fit.candidates(body, with_vertices=False)
        r = fit.result
        with atomic_output(out / "fit.npz", "wb") as fh:
            np.savez(fh, params=r.params.numpy(), pose=c.pose_aa[:, 0].numpy(), betas=c.betas[:, 0].numpy(),
                     cam=c.cam[:, 0].numpy(), joints=c.joints[:, 0].numpy(), keypoints_px=c.keypoints_px[:, 0].numpy(),
                     crop_center=fit.crop_center, crop_size=fit.crop_size,
                     detected_keypoints_px=np.stack([d.keypoints for d in people]).astype(np.float32))
        reproj_px = r.reprojection.numpy() * fit.crop_size / 2
        doc = {
            "image": str(photo),
            "persons": [
                {"box": [float(v) for v in d.box], "reprojection_px": round(float(e), 2), "world_landmarks": world is not None}
                for d, e in zip(people, reproj_px, strict=True)
            ],
            "too_small": found.too_small,
        }
        with atomic_output(out / "fit.json") as fh:
            fh.write(json.dumps(doc, indent=1))
        print(f"{photo}: fitted {len(people)} people (mean reprojection {reproj_px.mean():.1f} px); wrote {out}")
    return 1 if failed == len(args.photos) else 0


def _dataset(args: argparse.Namespace) -> int:
    from engine.jobs import JobSpec

    params = {"dataset": args.dataset, "replace": args.replace, "world": not args.no_world, "device": args.device}
    if args.steps is not None:
        params["steps"] = args.steps
    with open_project(args.project) as project:
        result = run_in_foreground(project, JobSpec("fit", params), "fit")
        code = report_result(project, result, "fit")
    if code:
        return code
    out = result.outputs
    err = out["mean_reprojection_px"]
    print(f"dataset {out['dataset']!r}: {out['fitted']} of {out['persons']} people fitted"
          + ("" if err is None else f" (mean reprojection {err:.1f} px)")
          + (f"; {out['skipped']} skipped (too few keypoints or a box of zero size)" if out["skipped"] else ""))
    return 0
