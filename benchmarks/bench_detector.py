"""Latency of the BlazePose person detector: one person, and every person in a street.

Usage (from the repository root): python -m benchmarks.bench_detector [--runs 30] [--threads 2]

Prints a markdown table of median milliseconds after warm-up, wall clock and CPU time
(``time.process_time``: every thread of the process, so it reads the work done even on
a machine that other jobs load, where wall times read high). On scikit-image's
astronaut (512 x 512): the person detector (letterbox, 224 px model, decoding), the
landmark stage (rotated crop, 256 px model, heatmap refinement, mask warp) and the whole
``PoseDetector.detect`` call. On the 1280 x 720 synthetic street
(``engine.data.synth.composite.STREET``, four people, two cut by the frame, two
overlapping): ``PoseDetector.detect_all`` (the whole image and two tiles, then the
landmarks of each person); the goal is 100 ms on two cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

from skimage import data

from engine.data.synth import SynthBody
from engine.data.synth.composite import STREET, scene
from engine.detect import PoseDetector


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 2) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``runs`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(wall) * 1000.0, statistics.median(cpu) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    image = data.astronaut()
    detector = PoseDetector(num_threads=args.threads)
    candidate = detector.finder.find(image)
    assert candidate is not None, "the astronaut must be found"
    square = candidate.square
    rows = [
        ("detector", median_ms(lambda: detector.finder.find(image), args.runs)),
        ("landmarks", median_ms(lambda: detector.landmarker.run(image, square), args.runs)),
        ("total", median_ms(lambda: detector.detect(image), args.runs)),
    ]
    street = scene(SynthBody.load(), STREET).image
    found = detector.detect_all(street)
    assert len(found.persons) == 4, "the street's four people must be found"
    rows.append(("street 1280x720, all 4 people", median_ms(lambda: detector.detect_all(street), args.runs)))
    print(
        f"BlazePose-full, {args.threads} interpreter threads, "
        f"median of {args.runs} runs ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})\n"
    )
    print("| stage | ms | CPU ms |")
    print("|---|---:|---:|")
    for stage, (ms, cpu_ms) in rows:
        print(f"| {stage} | {ms:.1f} | {cpu_ms:.1f} |")


if __name__ == "__main__":
    main()
