"""The progress and cancel protocol shared by every long engine function.

Long work is one function taking ``progress`` and ``should_cancel``; the CLI passes a
tqdm-backed reporter, the app one that emits Qt signals from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol

from engine.errors import JobCancelled


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report.

    fraction: in [0, 1], share of the work done.
    message: short human-readable status.
    metrics: named scalars for live plots (loss, implicit accuracy, ...).
    """

    fraction: float
    message: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)


class ProgressFn(Protocol):
    def __call__(self, event: ProgressEvent, /) -> None: ...


CancelFn = Callable[[], bool]


def no_progress(event: ProgressEvent) -> None:
    """Default reporter that drops every event."""


def never_cancel() -> bool:
    """Default cancel check."""
    return False


def check_cancel(should_cancel: CancelFn) -> None:
    """Raise JobCancelled when the caller asked to stop."""
    if should_cancel():
        raise JobCancelled("cancelled by the user")
