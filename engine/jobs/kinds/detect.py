"""The "detect" job: ``engine.projects.detect_dataset`` on images that have no person."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.registry import register_job

KIND = "detect"


def detector_of(p: Params) -> Any:
    """A PoseDetector with the job's ``min_size`` / ``min_score``, or None (built later
    with the defaults) when the job gives neither."""
    min_size, min_score = p.float("min_size", None), p.float("min_score", None)
    if min_size is None and min_score is None:
        return None
    from engine.detect import MIN_DETECTION_SCORE, MIN_PERSON_SIZE, PoseDetector

    return PoseDetector(
        min_size=MIN_PERSON_SIZE if min_size is None else min_size,
        min_score=MIN_DETECTION_SCORE if min_score is None else min_score,
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: dataset, min_size (px), min_score. Photos with nobody in them are
    remembered in the state folder."""
    from engine.projects.detecting import detect_dataset

    p = Params(KIND, params, ("dataset", "min_size", "min_score"))
    return detect_dataset(
        ctx.project, p.str("dataset"), detector=detector_of(p),
        skip_file=ctx.state_dir / "no_person.txt",
        progress=ctx.report, should_cancel=ctx.should_cancel,
    )


register_job(KIND, run, writer=True)
