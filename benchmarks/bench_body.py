"""Body model forward pass on CPU: batch 1 and 100, with and without meshes.

    python benchmarks/bench_body.py
"""

from __future__ import annotations

import statistics
import time

import torch

from engine.body.model import BodyModel


def time_ms(fn, repeats: int = 20) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


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
            ms = time_ms(lambda: body(rot, betas, rotation_format="axis_angle"))
            print(f"| {batch} | {ms:.1f} | {ms / batch:.2f} |")


if __name__ == "__main__":
    main()
