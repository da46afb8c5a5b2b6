"""The body fit: seconds per person (alone and batched), and its accuracy on synthetic renders.

    python benchmarks/bench_fit.py                 # speed table
    python benchmarks/bench_fit.py --renders 40    # + accuracy on 40 'studio' renders
    python benchmarks/bench_fit.py --renders 300 --seed 11 --rig   # a calibrated rig's geometry

Speed: the default FitConfig on keypoints of random bodies (torch's default threads;
``--threads 2`` for the two-core figure). Accuracy: each render goes through the real
detector (engine.detect), then the fit with and without BlazePose's world landmarks;
errors are hip-midpoint aligned MPJPE and PA-MPJPE in mm on the 12 body joints (COCO
shoulders, elbows, wrists, hips, knees, ankles) against the render's own body, beside
BlazePose's world landmarks themselves. Renders where nobody is detected are counted.
``--rig`` renders with the camera geometry of a calibrated multi-camera rig such as
Pose2Sim's (focal length about 0.9 x the image side, the person about half the image
tall and off its centre by a few degrees) and adds the fit that knows the camera
(perspective in the crop, then turned from the crop's ray into the camera), as the
real-footage benchmark runs it. The fit's defaults were chosen on these renders.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from engine.body.model import BodyModel
from engine.fitting import FitConfig, fit_bodies, fit_people
from engine.metrics import mpjpe, pa_mpjpe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine" / "fitting"))
from fit_data import make_people  # noqa: E402

EVAL12 = list(range(5, 17))


def speed(body: BodyModel, batches: tuple[int, ...]) -> None:
    print("| people in a batch | fit (s) | per person (s) |")
    print("|---:|---:|---:|")
    for n in batches:
        _, _, _, kp, _ = make_people(body, n, seed=n)
        fit_bodies(kp, body, config=FitConfig(camera_steps=2, body_steps=2))  # warm-up
        start = time.perf_counter()
        fit_bodies(kp, body)
        dt = time.perf_counter() - start
        print(f"| {n} | {dt:.2f} | {dt / n:.2f} |")


def _aligned(points: np.ndarray) -> np.ndarray:
    """(N, 12, 3) minus each set's hip midpoint (rows 6, 7 = COCO hips)."""
    return points - points[:, 6:8].mean(1, keepdims=True)


RIG = {"focal_256": (200.0, 250.0), "fill": (0.45, 0.6), "centre_jitter": 0.12}
"""Pose2Sim's cameras: focal 1681 px for a 1920 px side (224 at 256 px), the person about
900 px tall, 4-7 degrees off the optical axis."""


def accuracy(body: BodyModel, renders: int, domain: str, seed: int, rig: bool = False) -> None:
    from dataclasses import replace

    from engine.data.crops import square_crop
    from engine.data.synth import SynthBody, get_domain, render_sample
    from engine.detect import BLAZEPOSE_TO_COCO17, PoseDetector
    from engine.errors import NoPersonError
    from engine.multiview.calibration import Camera

    cfg = replace(get_domain(domain), **RIG) if rig else get_domain(domain)
    sb, detector = SynthBody(body), PoseDetector()
    kps, boxes, worlds, gts, cams, missed = [], [], [], [], [], 0
    for i in range(renders):
        sample = render_sample(sb, cfg, seed, i)
        try:
            det = detector.detect(sample.image)
        except NoPersonError:
            missed += 1
            continue
        row = sample.row
        with torch.no_grad():
            gt = body(torch.from_numpy(row["pose"])[None], torch.from_numpy(row["shape"])[None],
                      rotation_format="axis_angle", return_vertices=False).keypoints[0].numpy()
        f, (px, py) = float(row["focal"]), np.asarray(row["principal"], np.float64)
        cams.append(Camera("synth", (256, 256), np.array([[f, 0, px], [0, f, py], [0, 0, 1]]), np.zeros(5),
                           np.eye(3), np.zeros(3)))
        kps.append(np.asarray(det.keypoints))
        boxes.append(np.asarray(det.box))
        worlds.append(np.asarray(det.world_landmarks, np.float64)[:, :3])
        gts.append(gt[EVAL12])
    gt = _aligned(np.array(gts))
    rows = {"blazepose_world": np.array(worlds)[:, [BLAZEPOSE_TO_COCO17[j] for j in EVAL12]]}
    for name, world in (("fit (2D only)", None), ("fit (2D + world landmarks)", np.array(worlds))):
        fit = fit_people(np.array(kps), np.array(boxes), body, world_landmarks=world)
        c = fit.candidates(body, with_vertices=False)
        rows[name] = c.keypoints3d[:, 0, EVAL12].numpy()
    if rig:
        fit = fit_people(np.array(kps), np.array(boxes), body, world_landmarks=np.array(worlds),
                         focal_px=np.array([c.K[0, 0] for c in cams]))
        turns = np.stack([c.ray_rotation(square_crop(b)[0]) for c, b in zip(cams, boxes)])
        keypoints = fit.candidates(body, with_vertices=False).keypoints3d[:, 0, EVAL12].numpy()
        rows["fit (2D + world landmarks, the camera known)"] = np.einsum("nij,nkj->nki", turns, keypoints)
    where = f"'{domain}' renders with the rig's geometry" if rig else f"'{domain}' renders"
    print(f"\n{len(gts)} of {renders} {where} (seed {seed}) with a detected person; {missed} without")
    print("| method | MPJPE (mm) | PA-MPJPE (mm) |")
    print("|---|---:|---:|")
    for name, pred in rows.items():
        pred = _aligned(pred)
        print(f"| {name} | {mpjpe(pred, gt, root_index=None).mean():.1f} | {pa_mpjpe(pred, gt).mean():.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--renders", type=int, default=0, help="synthetic renders for the accuracy table")
    ap.add_argument("--domain", default="studio")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rig", action="store_true", help="render with a calibrated rig's camera geometry")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    body = BodyModel(device=args.device)
    print(f"body model: {body.name}, device {args.device}, torch threads: {torch.get_num_threads()}")
    print()
    speed(body, tuple(args.batches))
    if args.renders:
        accuracy(body, args.renders, args.domain, args.seed, args.rig)


if __name__ == "__main__":
    main()
