"""Contact sheets of the synthetic renderer, drawn with its own rasteriser.

    python tools/synth_contact_sheets.py --out docs

writes ``synth_poses.png`` (48 samples of the pose prior: top half with the studio
spread, bottom half with the wild spread, average body, grey), ``synth_studio.png`` and
``synth_wild.png`` (24 rendered samples each, 192 px, with their COCO keypoints: the skeleton in
green where both ends are confident, filled dots for visible points, hollow dots for
low-confidence ones).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from engine.data.joint_sets import COCO17_NAMES
from engine.data.synth.domains import STUDIO, WILD
from engine.data.synth.pose_prior import sample_pose
from engine.data.synth.raster import rasterize, shade, vertex_normals
from engine.data.synth.render import SynthBody, render_sample
from engine.data.synth.scene import Scene, global_orientation, place_body, project

_BONES = [("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
          ("right_shoulder", "right_hip"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
          ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("left_hip", "left_knee"),
          ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
          ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear")]


def grid(tiles: list[np.ndarray], cols: int) -> np.ndarray:
    rows = [np.concatenate(tiles[i:i + cols], axis=1) for i in range(0, len(tiles), cols)]
    return np.concatenate(rows, axis=0)


def pose_tile(sb: SynthBody, rng: np.random.Generator, spread, size: int) -> np.ndarray:
    body_pose = sample_pose(rng, spread)
    pose = body_pose.copy()
    pose[0] = global_orientation(body_pose[0], rng.uniform(-35, 35), 0.0, 0.0, 8.0, 0.0)
    pose = pose.reshape(72).astype(np.float32)
    vertices, _, _ = sb.pose(pose, np.zeros(10, np.float32))
    scene = Scene(pose=pose, betas=np.zeros(10, np.float32), focal=2.4 * size, principal=np.full(2, (size - 1) / 2),
                  fill=0.85, target=np.full(2, (size - 1) / 2), keep_inside=True,
                  light_dir=np.array([0.3, -0.4, -0.87]), light_color=np.full(3, 0.65, np.float32), ambient=0.35)
    t = place_body(vertices, scene, size)
    raster = rasterize(project(vertices, t, scene.focal, scene.principal), sb.faces, size, size)
    colours = np.full((len(sb.faces), 3), 0.8, np.float32)
    rgb = shade(raster, sb.faces, vertex_normals(vertices, sb.faces, sb.incidence), colours,
                scene.light_dir, scene.light_color, scene.ambient)
    img = np.where(raster.mask[..., None], rgb, 1.0)
    tile = (img * 255).astype(np.uint8)
    cv2.rectangle(tile, (0, 0), (size - 1, size - 1), (200, 200, 200), 1)
    return tile


def draw_keypoints(image: np.ndarray, kp: np.ndarray) -> np.ndarray:
    out = image.copy()
    idx = {n: i for i, n in enumerate(COCO17_NAMES)}
    for a, b in _BONES:
        pa, pb = kp[idx[a]], kp[idx[b]]
        if pa[2] > 0.5 and pb[2] > 0.5:
            cv2.line(out, (int(round(pa[0])), int(round(pa[1]))), (int(round(pb[0])), int(round(pb[1]))),
                     (40, 230, 40), 1, cv2.LINE_AA)
    for x, y, c in kp:
        if c > 0.5:
            cv2.circle(out, (int(round(x)), int(round(y))), 2, (255, 40, 40), -1, cv2.LINE_AA)
        elif c > 0:
            cv2.circle(out, (int(round(x)), int(round(y))), 2, (255, 220, 0), 1, cv2.LINE_AA)
    return out


def domain_sheet(sb: SynthBody, cfg, count: int, size: int, seed: int) -> np.ndarray:
    tiles = []
    for i in range(count):
        sample = render_sample(sb, cfg, seed, i, size)
        tiles.append(draw_keypoints(sample.image, sample.row["keypoints_coco"]))
    return grid(tiles, 6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--model", default=None, help="SMPL-format file (default: the open body)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=192, help="image side of the domain sheets' samples")
    args = parser.parse_args()
    sb = SynthBody.load(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    tiles = [pose_tile(sb, rng, STUDIO.pose if i < 24 else WILD.pose, 160) for i in range(48)]
    sheets = {
        "synth_poses.png": grid(tiles, 8),
        "synth_studio.png": domain_sheet(sb, STUDIO, 24, args.size, args.seed),
        "synth_wild.png": domain_sheet(sb, WILD, 24, args.size, args.seed),
    }
    for name, sheet in sheets.items():
        cv2.imwrite(str(args.out / name), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"wrote {args.out / name} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
