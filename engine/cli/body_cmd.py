"""``adhmr body``: inspect or convert body model files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "body",
        help="inspect a body model or convert an official SMPL pickle to .npz",
        description=(
            "Inspect the body model in use, or convert an official SMPL .pkl (chumpy inside) into a plain .npz.\n\n"
            "examples:\n"
            "  adhmr body info\n"
            "  adhmr body convert basicModel_neutral_lbs_10_207_0_v1.0.0.pkl smpl_neutral.npz\n"
            "  export ADHMR_BODY_MODEL=$PWD/smpl_neutral.npz"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bsub = p.add_subparsers(dest="body_command", metavar="ACTION", required=True)
    info = bsub.add_parser("info", help="print the body model's size and shape statistics")
    info.add_argument("--model", default=None, help="SMPL-format .npz/.pkl (default: $ADHMR_BODY_MODEL or the open body)")
    info.set_defaults(func=_info)
    conv = bsub.add_parser("convert", help="convert an SMPL .pkl (chumpy objects allowed) to .npz")
    conv.add_argument("src", type=Path)
    conv.add_argument("dst", type=Path)
    conv.set_defaults(func=_convert)


def _info(args: argparse.Namespace) -> int:
    import torch

    from engine.body.model import BodyModel

    body = BodyModel(args.model)
    out = body(torch.zeros(1, 24, 3), rotation_format="axis_angle")
    v = out.vertices[0]
    print(f"model:     {body.name} ({body.path})")
    print(f"vertices:  {body.num_vertices}, faces: {len(body.faces)}")
    print(f"height:    {float(v[:, 1].max() - v[:, 1].min()):.3f} m at zero pose and zero betas")
    print(f"pose-correctives: {'yes' if body.has_pose_correctives else 'no'}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from engine.body.model_file import read_model_file
    from engine.output_files import check_output

    check_output(args.dst, inputs=[args.src])
    arrays: dict[str, Any] = read_model_file(args.src)
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.dst.with_name(args.dst.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(args.dst)
    print(f"wrote {args.dst}")
    return 0
