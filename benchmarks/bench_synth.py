"""Synthetic renderer throughput: ms per stage in one process, and images/s of the whole
job (posing, rendering, JPEG writing, annotation file) with worker processes.

    python benchmarks/bench_synth.py [--n 1000] [--size 256] [--workers 2]

The load average is printed too: other processes on the machine slow every number.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import torch

from engine.data.synth.domains import DOMAINS
from engine.data.synth.generate import generate_dataset, write_jpeg
from engine.data.synth.render import StageTimer, SynthBody, render_sample


def stage_table(sb: SynthBody, size: int, count: int) -> None:
    # One torch thread, as each of the job's worker processes runs with on two cores.
    torch.set_num_threads(1)
    print(f"one process, one torch thread, {count} images per domain at {size}x{size} px (ms per image)")
    print()
    stages = ("sample", "pose", "raster", "shade", "background", "keypoints", "jpeg")
    print("| domain | " + " | ".join(stages) + " | total | images/s |")
    print("|---" * (len(stages) + 3) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in DOMAINS.items():
            for i in range(3):
                render_sample(sb, cfg, 1, i, size)
            timer = StageTimer()
            t0 = time.perf_counter()
            for i in range(count):
                sample = render_sample(sb, cfg, 0, i, size, timer)
                with timer("jpeg"):
                    write_jpeg(Path(tmp) / f"{i}.jpg", sample.image)
            total = (time.perf_counter() - t0) / count * 1000
            cells = " | ".join(f"{timer.seconds.get(s, 0.0) / count * 1000:.1f}" for s in stages)
            print(f"| {name} | {cells} | {total:.1f} | {1000 / total:.0f} |")
    print()


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def job_table(n: int, size: int, workers: int) -> None:
    cores = os.cpu_count() or 1
    print(f"generate_dataset, {n} images per domain at {size}x{size} px, {workers} worker processes")
    print()
    print("CPU time counts every process of the job, start-up (imports, body model) included; on a")
    print(f"shared machine 'images/s if alone' = {min(cores, workers)} cores / CPU seconds per image is the")
    print("figure to compare, since the wall clock includes waiting for other processes.")
    print()
    print("| domain | wall (s) | images/s (wall) | CPU ms / image | images/s if alone |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in DOMAINS:
            cpu0, t0 = _cpu_seconds(), time.perf_counter()
            generate_dataset(Path(tmp) / name, n, name, seed=0, size=size, workers=workers)
            wall = time.perf_counter() - t0
            cpu = (_cpu_seconds() - cpu0) / n
            alone = min(cores, workers) / cpu
            print(f"| {name} | {wall:.1f} | {n / wall:.0f} | {cpu * 1000:.1f} | {alone:.0f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stage-images", type=int, default=60)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    print()
    stage_table(SynthBody.load(), args.size, args.stage_images)
    job_table(args.n, args.size, args.workers)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
