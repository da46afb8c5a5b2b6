"""Render the open body's contact sheet: 12 SMPL-convention poses x 3 shapes.

    python tools/body_contact_sheet.py --out docs/open_body_contact_sheet.png

Rows are shapes (the average body, beta 0 = +2 which mostly grows height, beta 2 = -2
which mostly adds weight); columns are
the named poses of engine/body/named_poses.py, rendered off-screen with pyvista.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyvista as pv
import torch

from engine.body.model import BodyModel
from engine.body.named_poses import NAMED_POSES

SHAPES = {
    "average": np.zeros(10, np.float32),
    "tall (beta0 +2)": np.eye(10, dtype=np.float32)[0] * 2,
    "heavy (beta2 -2)": np.eye(10, dtype=np.float32)[2] * -2,
}


def render_sheet(body: BodyModel, shapes: dict[str, np.ndarray], tile: int = 220) -> np.ndarray:
    names = list(NAMED_POSES)[:12]
    poses = torch.as_tensor(np.stack([NAMED_POSES[n] for n in names]))
    faces = np.hstack([np.full((len(body.faces), 1), 3), body.faces]).ravel()
    rows = []
    for label, betas in shapes.items():
        out = body(poses, torch.as_tensor(betas).expand(len(names), 10), rotation_format="axis_angle")
        tiles = []
        for i, name in enumerate(names):
            plotter = pv.Plotter(off_screen=True, window_size=(tile, int(tile * 1.4)))
            plotter.set_background("white")
            mesh = pv.PolyData(out.vertices[i].numpy(), faces)
            plotter.add_mesh(mesh, color="#d9b38c", smooth_shading=True)
            plotter.add_text(f"{name}\n{label}", font_size=7, color="black")
            centre = out.joints[i, 0].numpy()
            plotter.camera.focal_point = centre
            plotter.camera.position = centre + np.array([1.6, 0.7, 4.6])
            plotter.camera.up = (0, 1, 0)
            plotter.camera.view_angle = 34
            tiles.append(plotter.screenshot(return_img=True))
            plotter.close()
        rows.append(np.concatenate(tiles, axis=1))
    return np.concatenate(rows, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/open_body_contact_sheet.png"))
    parser.add_argument("--model", default=None, help="SMPL-format file (default: the open body)")
    args = parser.parse_args()
    body = BodyModel(args.model)
    sheet = render_sheet(body, SHAPES)
    from engine.image_io import save_image

    save_image(args.out, sheet)


if __name__ == "__main__":
    main()
