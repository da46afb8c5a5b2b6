"""Child process for the job tests: runs the "hash-images" job on dataset "imgs".

Usage: _child_job.py PROJECT slow|hold
slow: prints every progress fraction and sleeps 5 ms (a slow consumer, like a busy GUI).
hold: prints "started" at the first progress report, then waits for stdin to close.
Prints "result <status>" at the end.
"""

import sys
import time

from engine.jobs import JobSpec, run_job
from engine.store import Project

path, mode = sys.argv[1], sys.argv[2]
started = False


def on_progress(event):
    global started
    if mode == "slow":
        print(event.fraction, flush=True)
        time.sleep(0.005)
    elif not started:
        started = True
        print("started", flush=True)
        sys.stdin.read()


with Project.open(path) as project:
    result = run_job(project, JobSpec("hash-images", {"dataset": "imgs"}), progress_cb=on_progress)
    print("result", result.status, flush=True)
