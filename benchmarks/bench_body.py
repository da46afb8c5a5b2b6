"""Body model forward pass on CPU: batch 1 and 100, with and without meshes.

    python benchmarks/bench_body.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from engine.body.model import BodyModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_ms  # noqa: E402


def main() -> None:
    body = BodyModel()
    print(f"body model: {body.name}, {body.num_vertices} vertices, torch threads: {torch.get_num_threads()}")
    print()
    print("| batch | forward (ms) | per body (ms) |")
    print("|---:|---:|---:|")
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for batch in (1, 100):
            rot = torch.randn(batch, 24, 3, generator=g) * 0.3
            betas = torch.randn(batch, 10, generator=g)
            ms = median_ms(lambda: body(rot, betas, rotation_format="axis_angle"), 20, warmup=1)
            print(f"| {batch} | {ms:.1f} | {ms / batch:.2f} |")


if __name__ == "__main__":
    main()
