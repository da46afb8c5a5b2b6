"""Event-loop latency of the app while a Diffusion-DPO job trains in the background.

    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/bench_event_loop.py [--steps 150]

Opens the GUI benchmark's project (4 photos, 100 stored candidates each; see
bench_gui.py), adds 16 hand-made pairs, and starts a real "dpo" job on the bundled base
checkpoint from the window's job runner, exactly as the Jobs panel does. A 10 ms QTimer
measures how late the event loop serves it: lateness = gap between ticks - 10 ms. The
table gives the lateness with the window idle and while the job runs, and the time to
switch images (100 candidates) during the job. Goal: p95 lateness <= 100 ms during a job.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TICK_MS = 10


def add_pairs(path: Path, per_person: int = 4) -> int:
    """Hand-made pairs in the benchmark project: candidate k beats candidate k + 50."""
    from engine import store

    made = 0
    with store.Project.open(path) as project:
        for image in store.list_images(project):
            for person in store.persons_of_image(project, image.id):
                cands = store.candidates_of_person(project, person.id)
                for k in range(per_person):
                    store.add_manual_pair(project, person.id, cands[k].id, cands[k + 50].id)
                    made += 1
    return made


class TickRecorder:
    """Gaps between the ticks of a TICK_MS QTimer, in ms."""

    def __init__(self) -> None:
        from PyQt6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.gaps, self._last = [], None
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return [max(0.0, g - TICK_MS) for g in self.gaps]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="DPO steps of the background job")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="adhmr-bench-loop-"))
    os.environ["ADHMR_STUDIO_CONFIG_DIR"] = str(work / "config")
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.panels.jobs_runner import JobRunner
    from bench_gui import build_project, open_window
    from engine.jobs import JobSpec

    path = build_project(work)
    pairs = add_pairs(path)
    w = open_window(path)
    ids = [r.id for r in w.state.images]
    recorder = TickRecorder()

    recorder.start()
    QTest.qWait(3000)
    idle = recorder.stop()

    runner = JobRunner.of(w)
    done: list[object] = []
    runner.finished.connect(lambda job_id, result: done.append(result))
    events: list[float] = []
    runner.progressed.connect(lambda job_id, event: events.append(time.perf_counter()))
    job_id = runner.start(JobSpec("dpo", {"checkpoint": "default", "steps": args.steps,
                                         "batch_size": args.batch_size, "save_every": args.steps}))
    # Let the job load its models and start stepping before measuring.
    deadline = time.perf_counter() + 120
    while not events and not done and time.perf_counter() < deadline:
        QTest.qWait(50)
    recorder.start()
    switches: list[float] = []
    k = 0
    job_start = time.perf_counter()
    while not done and time.perf_counter() < deadline + 600:
        QTest.qWait(700)
        t0 = time.perf_counter()
        w.state.open_image(ids[k % len(ids)])
        w.flush_views()
        app.processEvents()
        switches.append((time.perf_counter() - t0) * 1000)
        k += 1
    busy = recorder.stop()
    job_seconds = time.perf_counter() - job_start
    result = done[0] if done else None
    w.close()
    if isinstance(result, BaseException) or result is None:
        print(f"the DPO job did not finish: {result!r}")
        return 1

    def pct(xs: list[float], q: float) -> str:
        return f"{np.percentile(xs, q):.0f} ms"

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Event loop while a DPO job runs ({os.cpu_count()} CPU cores, load average {load:.1f}); "
          f"job {job_id}: {args.steps} steps x {args.batch_size} of {pairs} pairs, "
          f"{job_seconds:.0f} s measured, {len(switches)} image switches\n")
    print(f"| {'measure':<40} | {'idle':>8} | {'DPO job':>8} | {'goal':>9} |")
    print(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|{'-' * 11}|")
    print(f"| {'timer lateness, median':<40} | {pct(idle, 50):>8} | {pct(busy, 50):>8} | {'':>9} |")
    print(f"| {'timer lateness, p95':<40} | {pct(idle, 95):>8} | {pct(busy, 95):>8} | {'<= 100 ms':>9} |")
    print(f"| {'timer lateness, worst':<40} | {pct(idle, 100):>8} | {pct(busy, 100):>8} | {'':>9} |")
    print(f"| {'switch image (100 candidates), median':<40} | {'':>8} | "
          f"{statistics.median(switches):.0f} ms | {'<= 300 ms':>9} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
