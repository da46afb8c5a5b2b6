"""Child process for the import kill test: runs an "import" job of one annotation file.

Usage: _child_import.py PROJECT FILE
Prints every progress fraction and sleeps 20 ms per report (a slow consumer), so the
parent can kill it mid-import. Prints "result <status>" at the end.
"""

import sys
import time

import engine.jobs.kinds  # noqa: F401
from engine.jobs import JobSpec, run_job
from engine.store import Project

path, source = sys.argv[1], sys.argv[2]


def on_progress(event):
    print(event.fraction, flush=True)
    time.sleep(0.02)


with Project.open(path) as project:
    result = run_job(project, JobSpec("import", {"paths": [source], "name": "big"}), progress_cb=on_progress)
    print("result", result.status, flush=True)
