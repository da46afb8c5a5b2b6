"""Background work for the GUI: engine functions in superqt workers, with progress and cancel.

``TaskRunner.start(label, fn, *args)`` calls ``fn(*args, progress=..., should_cancel=...)``
in a worker thread (the engine's long-work protocol). Progress events cross to the GUI
thread as a queued Qt signal; Cancel sets a flag the engine checks between steps. One
task runs at a time: the window stays responsive, and actions that need the project
wait for the task to finish.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PyQt6.QtCore import QObject, pyqtSignal
from superqt.utils import create_worker

from engine.progress import ProgressEvent

log = logging.getLogger(__name__)


class Task(QObject):
    """One running job: its label, cancel flag and progress signal."""

    progressed = pyqtSignal(float, str)

    def __init__(self, label: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self._cancel = threading.Event()

    def report(self, event: ProgressEvent) -> None:
        """A ProgressFn; safe to call from the worker thread."""
        self.progressed.emit(float(event.fraction), event.message)

    def should_cancel(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class TaskRunner(QObject):
    """Starts tasks and tells the status bar about them."""

    started = pyqtSignal(object)
    progressed = pyqtSignal(float, str)
    finished = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current: Task | None = None
        self._worker = None

    @property
    def busy(self) -> bool:
        return self.current is not None

    def start(self, label: str, fn: Callable, *args, on_done: Callable | None = None,
              on_error: Callable | None = None, **kwargs) -> Task | None:
        """Run ``fn(*args, progress=, should_cancel=, **kwargs)``; None if a task is running.

        on_done(result) and on_error(exception) run on the GUI thread once the task is
        over (``busy`` is False again, so they may start another). A cancelled task calls
        neither (JobCancelled, or a result that arrives after Cancel, is dropped).
        """
        if self.busy:
            return None
        task = Task(label, self)
        task.progressed.connect(self.progressed)
        outcome: dict[str, object] = {}
        worker = create_worker(fn, *args, progress=task.report, should_cancel=task.should_cancel,
                               _start_thread=False, _ignore_errors=True, **kwargs)
        worker.returned.connect(lambda result: outcome.setdefault("result", result))
        worker.errored.connect(lambda exc: outcome.setdefault("error", exc))

        def finished() -> None:
            from engine.errors import JobCancelled

            self.current = None
            self._worker = None
            self.finished.emit(task)
            error = outcome.get("error")
            if task.cancelled or isinstance(error, JobCancelled):
                return
            if error is not None:
                log.debug("task %s failed", label, exc_info=error)
                if on_error is not None:
                    on_error(error)
            elif on_done is not None and "result" in outcome:
                on_done(outcome["result"])

        worker.finished.connect(finished)
        self.current = task
        self._worker = worker
        self.started.emit(task)
        worker.start()
        return task

    def cancel(self) -> None:
        if self.current is not None:
            self.current.cancel()
