"""Engine jobs run from the app: each in a superqt worker thread, with progress and cancel.

``JobRunner.of(window).start(JobSpec(kind, params))`` makes the job row (so the jobs
panel lists it at once) and runs ``engine.jobs.run_job`` on it in a worker thread, with
a ``threading.Event`` as the cancel flag; ``resume`` runs ``engine.jobs.resume_job``.
Each attempt opens its own ``Project`` on the project file, so closing or switching the
project in the window never pulls the database from under a running job. Progress
events (fraction, message, metrics) reach the GUI thread through a queued signal.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PyQt6.QtCore import QEvent, QObject, pyqtSignal
from superqt.utils import create_worker

from engine import store
from engine.errors import AdhmrError, StoreError
from engine.jobs import JobResult, JobSpec, cancel_job, create_job, job_metrics, resume_job, run_job
from engine.progress import ProgressEvent

log = logging.getLogger(__name__)


@dataclass
class RunningJob:
    """A job this window runs: its project file, cancel flag and the events seen so far."""

    job_id: int
    project_path: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    events: list[ProgressEvent] = field(default_factory=list)
    base_metrics: list[dict] = field(default_factory=list)
    worker: object = None


def _attempt(project_path: Path, job_id: int, resume: bool, progress, cancel: threading.Event) -> JobResult:
    with store.Project.open(project_path) as project:
        if resume:
            return resume_job(project, job_id, progress, cancel)
        return run_job(project, job_id, progress, cancel)


class JobRunner(QObject):
    """The window's running jobs (of any project it had open; each keeps running when
    another project is opened).

    started(job_id), progressed(job_id, ProgressEvent), finished(job_id, JobResult or
    exception) — on the GUI thread, for jobs of the project open now.
    """

    started = pyqtSignal(int)
    progressed = pyqtSignal(int, object)
    finished = pyqtSignal(int, object)
    _event = pyqtSignal(object, object)  # (key, event) from worker threads, queued to the GUI thread

    def __init__(self, state, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.running: dict[tuple[Path, int], RunningJob] = {}
        self._event.connect(self._on_event)

    @classmethod
    def of(cls, window) -> JobRunner:
        """The window's runner (made on first use, a child of the window; it cancels its
        jobs when the window closes)."""
        found = window.findChild(cls, "job-runner")
        if found is None:
            found = cls(window.state, window)
            found.setObjectName("job-runner")
            window.installEventFilter(found)
        return found

    def eventFilter(self, obj, event) -> bool:
        if obj is self.parent() and event.type() == QEvent.Type.Close:
            self.cancel_all()
        return False

    def start(self, spec: JobSpec) -> int:
        """Queue a job in the open project and run it now; returns its id.

        Raises StoreError (no project, or params that are not plain JSON).
        """
        project = self._project()
        job_id = create_job(project, spec.kind, dict(spec.params))
        self._launch(job_id, resume=False)
        return job_id

    def resume(self, job_id: int) -> None:
        """Run a failed, cancelled or crashed job again (same params and state folder)."""
        self._launch(job_id, resume=True)

    def cancel(self, job_id: int) -> str | None:
        """Stop a job of the open project: ours through its flag, another process's
        through the store."""
        running = self._mine(job_id)
        if running is not None:
            running.cancel.set()
            return "cancel_requested"
        project = self.state.project
        return None if project is None else cancel_job(project, job_id)

    def cancel_all(self) -> None:
        """Ask every job this window runs to stop (when it closes)."""
        for running in self.running.values():
            running.cancel.set()

    def is_running(self, job_id: int) -> bool:
        """Whether this window runs that job of the open project now."""
        return self._mine(job_id) is not None

    def running_ids(self) -> list[int]:
        """Jobs of the open project this window runs now."""
        path = self._path()
        return [job_id for (p, job_id) in self.running if p == path]

    def events(self, job_id: int) -> list[ProgressEvent]:
        """Progress events of this attempt of a job this window runs (empty for others)."""
        running = self._mine(job_id)
        return list(running.events) if running is not None else []

    def base_metrics(self, job_id: int) -> list[dict]:
        """The metric reports stored before this attempt started (earlier attempts')."""
        running = self._mine(job_id)
        return list(running.base_metrics) if running is not None else []

    def _path(self) -> Path | None:
        return None if self.state.project is None else Path(self.state.project.path)

    def _mine(self, job_id: int) -> RunningJob | None:
        return self.running.get((self._path(), job_id))

    def _project(self) -> store.Project:
        if self.state.project is None:
            raise StoreError("open a project first")
        return self.state.project

    def _launch(self, job_id: int, resume: bool) -> None:
        project = self._project()
        key = (Path(project.path), job_id)
        if key in self.running:
            raise StoreError(f"job {job_id} is already running")
        running = RunningJob(job_id, key[0], base_metrics=job_metrics(project, job_id))

        def progress(event: ProgressEvent) -> None:
            self._event.emit(key, event)

        worker = create_worker(_attempt, running.project_path, job_id, resume, progress, running.cancel,
                               _start_thread=False, _ignore_errors=True)
        outcome: dict[str, object] = {}
        worker.returned.connect(lambda result: outcome.setdefault("result", result))
        worker.errored.connect(lambda exc: outcome.setdefault("result", exc))
        worker.finished.connect(lambda: self._finished(key, outcome.get("result")))
        running.worker = worker
        self.running[key] = running
        self.started.emit(job_id)
        worker.start()

    def _on_event(self, key: tuple[Path, int], event: ProgressEvent) -> None:
        running = self.running.get(key)
        if running is not None:
            running.events.append(event)
        if key[0] == self._path():
            self.progressed.emit(key[1], event)

    def _finished(self, key: tuple[Path, int], result: object) -> None:
        self.running.pop(key, None)
        if isinstance(result, BaseException) and not isinstance(result, AdhmrError):
            log.warning("job %d of %s failed: %s", key[1], key[0], result, exc_info=result)
        if key[0] == self._path():
            self.finished.emit(key[1], result)
