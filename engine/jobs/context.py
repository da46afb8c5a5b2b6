"""What a running job sees: progress reporting, cancel checks, a log and a state folder."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel
from engine.store import Project
from engine.store.repo_jobs import job_status, report_progress
from engine.store.schema import utcnow

log = logging.getLogger(__name__)

MIN_WRITE_INTERVAL_S = 0.5


class JobContext:
    """Handed to a job function; used from the job's thread only.

    Every progress event goes to the caller's callback at once; the job row is written at
    most every ``min_interval`` seconds (metrics reported in between are kept and written
    together, so the history has them all). Cancel comes from the caller's flag or from a
    'cancel_requested' status set by another thread or process (``cancel_job``).
    """

    def __init__(
        self,
        project: Project,
        job_id: int,
        state_dir: Path,
        progress_cb: ProgressFn | None = None,
        cancel_flag: CancelFn | threading.Event | None = None,
        min_interval: float = MIN_WRITE_INTERVAL_S,
    ) -> None:
        self.project = project
        self.job_id = job_id
        self.state_dir = state_dir
        self._callback = progress_cb
        self._cancel_flag = (
            cancel_flag.is_set if isinstance(cancel_flag, threading.Event) else cancel_flag
        )
        self._min_interval = min_interval
        self._fraction = 0.0
        self._message = ""
        self._metrics: list[tuple[float, dict[str, float | None]]] = []
        self._log: list[str] = []
        self._dirty = False
        self._last_write = -math.inf
        self._last_poll = -math.inf
        self._cancel_requested = False

    def progress(
        self, fraction: float, message: str = "", metrics: Mapping[str, float] | None = None
    ) -> None:
        """Report ``fraction`` in [0, 1] done, a status line and named scalars."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        event = ProgressEvent(fraction, message, dict(metrics or {}))
        self._fraction, self._message, self._dirty = fraction, message, True
        if event.metrics:
            # A diverged loss is worth keeping in the history: NaN/inf are stored as null.
            values = {k: float(v) for k, v in event.metrics.items()}
            self._metrics.append(
                (fraction, {k: v if math.isfinite(v) else None for k, v in values.items()})
            )
        if self._callback is not None:
            self._callback(event)
        self._maybe_flush()

    def report(self, event: ProgressEvent) -> None:
        """The same as ``progress``, as a ``ProgressFn`` to hand to long engine functions."""
        self.progress(event.fraction, event.message, event.metrics)

    def log(self, message: str) -> None:
        """Append a line to the job's log (and to the ``logging`` log)."""
        log.info("job %d: %s", self.job_id, message)
        self._log.append(f"{utcnow().isoformat(timespec='seconds')} {message}\n")
        self._dirty = True
        self._maybe_flush()

    def should_cancel(self) -> bool:
        """Whether the job was asked to stop (a ``CancelFn``)."""
        if self._cancel_flag is not None and self._cancel_flag():
            return True
        if not self._cancel_requested and time.monotonic() - self._last_poll >= self._min_interval:
            self._last_poll = time.monotonic()
            self._cancel_requested = job_status(self.project, self.job_id) == "cancel_requested"
        return self._cancel_requested

    def check_cancel(self) -> None:
        """Raise JobCancelled if the job was asked to stop."""
        check_cancel(self.should_cancel)

    def flush(self) -> None:
        """Write pending progress, metrics and log lines to the job row now."""
        if not self._dirty:
            return
        status = report_progress(
            self.project,
            self.job_id,
            self._fraction,
            self._message,
            self._metrics,
            "".join(self._log),
        )
        self._metrics.clear()
        self._log.clear()
        self._dirty = False
        self._last_write = self._last_poll = time.monotonic()
        self._cancel_requested = self._cancel_requested or status == "cancel_requested"

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_write >= self._min_interval:
            self.flush()
