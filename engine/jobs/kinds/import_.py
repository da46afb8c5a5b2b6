"""The "import" job: ``engine.projects.import_dataset`` (resumes by skipping imported images)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds._params import Params
from engine.jobs.kinds.detect import detector_of
from engine.jobs.registry import register_job

KIND = "import"
MAX_LOGGED = 200


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: paths (list), name, format (auto|spin|prohmr|coco|images), image_root,
    label_kind (gt|pseudo), detect (bool), min_size (px), min_score (the detector's
    thresholds for photos). Outputs: ``ImportReport.to_dict()``."""
    from engine.projects.importing import import_dataset

    p = Params(KIND, params, (
        "paths", "name", "format", "image_root", "label_kind", "detect", "min_size", "min_score",
    ))
    report = import_dataset(
        ctx.project,
        p.list("paths"),
        name=p.str("name", None),
        format=p.str("format", "auto"),
        image_root=p.str("image_root", None),
        label_kind=p.str("label_kind", None),
        detect=p.bool("detect", True),
        detector=detector_of(p),
        progress=ctx.report,
        should_cancel=ctx.should_cancel,
    )
    for where, why in report.rejected[:MAX_LOGGED]:
        ctx.log(f"rejected {where}: {why}")
    if len(report.rejected) > MAX_LOGGED:
        ctx.log(f"... and {len(report.rejected) - MAX_LOGGED} more rejected (see the outputs)")
    return report.to_dict()


register_job(KIND, run, writer=True)
