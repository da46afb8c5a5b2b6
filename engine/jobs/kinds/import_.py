"""The "import" job: ``engine.projects.import_dataset`` (resumes by skipping imported images)."""

from __future__ import annotations

from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.kinds.detect import DETECTOR, detector_of
from engine.jobs.registry import register_job
from engine.params import ParamSpec

KIND = "import"
MAX_LOGGED = 200


def param_specs() -> tuple[ParamSpec, ...]:
    from engine.projects.importing import import_formats

    return (
        ParamSpec("paths", "paths", None, "annotation files, photo folders or photos", required=True),
        ParamSpec("name", "str", None, "the dataset (default: from the first path)", optional=True),
        ParamSpec("format", "str", "auto", "file format (auto: by suffix and content)",
                  choices=import_formats()),
        ParamSpec("image_root", "str", None, "folder the annotation file's image paths are relative to",
                  optional=True),
        ParamSpec("label_kind", "str", None, "gt (ground truth) or pseudo (to be cleaned)", optional=True,
                  choices=("gt", "pseudo")),
        ParamSpec("detect", "bool", True, "find the person in photos"),
        *DETECTOR,
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``. Outputs: ``ImportReport.to_dict()``."""
    from engine.projects.importing import import_dataset

    v = P.values(KIND, params, param_specs())
    report = import_dataset(
        ctx.project, v["paths"], name=v["name"], format=v["format"], image_root=v["image_root"],
        label_kind=v["label_kind"], detect=v["detect"], detector=detector_of(v),
        progress=ctx.report, should_cancel=ctx.should_cancel,
    )
    for where, why in report.rejected[:MAX_LOGGED]:
        ctx.log(f"rejected {where}: {why}")
    if len(report.rejected) > MAX_LOGGED:
        ctx.log(f"... and {len(report.rejected) - MAX_LOGGED} more rejected (see the outputs)")
    return report.to_dict()


register_job(KIND, run, writer=True, params=param_specs)
