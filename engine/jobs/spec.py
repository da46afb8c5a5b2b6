"""What to run (JobSpec) and how it ended (JobResult)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobSpec:
    """A job to run: a registered kind and its JSON-serialisable parameters."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobResult:
    """How an attempt ended. status: done, failed or cancelled; error: one line or None."""

    job_id: int
    status: str
    outputs: dict[str, Any] | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status == "done"
