"""The "detect" job: ``engine.projects.detect_dataset`` on images that have no person."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "detect"
DETECTOR = (
    ParamSpec("min_size", "float", None, "smallest person kept, in pixels (empty: the detector's default)",
              optional=True, ge=0),
    ParamSpec("min_score", "float", None, "lowest detection score kept (empty: the detector's default)",
              optional=True, ge=0, le=1),
)
"""The detector's thresholds, shared with the import job (photos are detected on import)."""


def param_specs() -> tuple[ParamSpec, ...]:
    return (P.dataset(), *DETECTOR)


def detector_of(values: Mapping[str, Any]) -> Any:
    """A PoseDetector with the job's ``min_size`` / ``min_score``, or None (built later
    with the defaults) when the job gives neither."""
    min_size, min_score = values.get("min_size"), values.get("min_score")
    if min_size is None and min_score is None:
        return None
    from engine.detect import MIN_DETECTION_SCORE, MIN_PERSON_SIZE, PoseDetector

    return PoseDetector(
        min_size=MIN_PERSON_SIZE if min_size is None else min_size,
        min_score=MIN_DETECTION_SCORE if min_score is None else min_score,
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``. Photos with nobody in them are remembered in the
    state folder."""
    from engine.projects.detecting import detect_dataset

    v = P.values(KIND, params, param_specs())
    return detect_dataset(
        ctx.project, v["dataset"], detector=detector_of(v), skip_file=ctx.state_dir / "no_person.txt",
        progress=ctx.report, should_cancel=ctx.should_cancel,
    )


register_job(KIND, run, writer=True, params=param_specs)
