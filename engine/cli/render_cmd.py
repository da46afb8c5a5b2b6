"""``adhmr render``: a person's chosen candidates out of a project, without a display."""

from __future__ import annotations

import argparse
from pathlib import Path


def _ranks(text: str) -> list[int]:
    try:
        ranks = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid ranks {text!r}: whole numbers separated by commas") from None
    if not ranks or min(ranks) < 1:
        raise argparse.ArgumentTypeError(f"invalid ranks {text!r}: 1 is the best")
    return ranks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="export candidates as meshes (PLY/OBJ/glTF), overlay and 3D images, videos",
        description=(
            "Export the chosen candidates of one person: mesh files in the photo's camera frame,\n"
            "the photo with the meshes drawn over it, a 3D view, and a turntable or\n"
            "candidate-by-candidate video. Renders off screen: no display needed.\n"
            "--error colours by the distance to the person's 3D label (mm per vertex).\n\n"
            "examples:\n"
            "  adhmr render demo.adhmr --image astronaut.png --ranks 1,2,3 --out export/\n"
            "  adhmr render demo.adhmr --image 7 --mesh ply --video turntable --out export/\n"
            "  adhmr render demo.adhmr --image 000001.jpg --error --no-mesh --out errors/"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=Path, help="the project file (.adhmr)")
    p.add_argument("--image", required=True, help="image id, or its file name / stored path")
    p.add_argument("--person", type=int, default=1, help="which person of the photo (1 = the first)")
    p.add_argument("--ranks", type=_ranks, default=[1], help="ranks by score, e.g. 1,2,3 (default: 1)")
    p.add_argument("--candidates", type=_ranks, default=None,
                   help="candidate ids instead of ranks, e.g. 412,415 (as the app's export passes them)")
    p.add_argument("--out", type=Path, required=True, help="folder to write into")
    p.add_argument("--mesh", nargs="+", choices=("ply", "obj", "glb"), default=["ply", "obj", "glb"],
                   help="mesh formats (default: all three)")
    p.add_argument("--no-mesh", action="store_true", help="write no mesh files")
    p.add_argument("--video", choices=("turntable", "candidates", "none"), default="none",
                   help="an MP4: the meshes turning, or each candidate's overlay in turn")
    p.add_argument("--size", type=int, nargs=2, default=(800, 800), metavar=("W", "H"),
                   help="3D view and turntable size in pixels")
    p.add_argument("--error", action="store_true",
                   help="colour by the distance to the person's 3D label (blue 0 mm to red 150 mm)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from engine.image_io import save_image
    from engine.projects.rendering import load_selection, render_overlay, render_view3d, write_meshes, write_video
    from engine.store import Project

    with Project.open(args.project) as project:
        sel = load_selection(project, args.image, args.person, args.ranks, candidate_ids=args.candidates)
    args.out.mkdir(parents=True, exist_ok=True)
    written = [] if args.no_mesh else write_meshes(sel, args.out, args.mesh, color_by_error=args.error)
    overlay = args.out / "overlay.png"
    save_image(overlay, render_overlay(sel, color_by_error=args.error))
    view = args.out / "view3d.png"
    save_image(view, render_view3d(sel, tuple(args.size), color_by_error=args.error))
    written += [overlay, view]
    if args.video != "none":
        written.append(write_video(sel, args.out / f"{args.video}.mp4", args.video, tuple(args.size),
                                   color_by_error=args.error))
    for name, score in zip(sel.names, sel.scores):
        line = f"{name}: score {score:.3f}" if score == score else f"{name}: no score"
        if sel.errors is not None:
            k = sel.names.index(name)
            line += f", mean vertex error to the label {float(sel.errors[k].mean()):.0f} mm"
        print(line)
    for path in written:
        print(f"wrote {path}")
    return 0
