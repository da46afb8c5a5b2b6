"""The "synth" job: ``engine.data.synth.generate_dataset``, then an import of the result.

Generation resumes from its finished shards; the import skips images already imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.jobs.context import JobContext
from engine.jobs.kinds import _params as P
from engine.jobs.registry import register_job
from engine.params import ParamSpec
from engine.progress import ProgressEvent

KIND = "synth"
GENERATE_SHARE = 0.8


def param_specs() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("n", "int", 16, "synthetic people to render", ge=1),
        ParamSpec("domain", "str", "studio", "studio: plain backdrops; wild: cluttered scenes, harder lighting",
                  choices=("studio", "lab", "wild")),
        ParamSpec("name", "str", None, "dataset name (default: synth-<domain>)", optional=True),
        ParamSpec("size", "int", 256, "image side in pixels", ge=32, le=4096),
        ParamSpec("corrupt_fraction", "float", 0.0, "share of labels given realistic errors (to test cleaning)",
                  ge=0, le=1),
        P.seed(),
        ParamSpec("workers", "int", 1, "rendering processes", ge=1),
        ParamSpec("out", "str", None, "folder (default: <data>/synth/<name>)", optional=True),
        ParamSpec("import", "bool", True, "import the result as a dataset of this project"),
    )


def run(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """params: see ``param_specs()``. Outputs: annotations path, and the import's."""
    from engine.data.synth import generate_dataset
    from engine.projects.importing import import_dataset

    v = P.values(KIND, params, param_specs())
    name = v["name"] or f"synth-{v['domain']}"
    out = Path(v["out"] or str(ctx.project.data_dir / "synth" / name)).absolute()
    share = GENERATE_SHARE if v["import"] else 1.0

    def generating(e: ProgressEvent) -> None:
        ctx.progress(e.fraction * share, e.message, e.metrics)

    path = generate_dataset(
        out, v["n"], v["domain"], seed=v["seed"], size=v["size"], workers=v["workers"],
        corrupt_fraction=v["corrupt_fraction"], progress=generating, should_cancel=ctx.should_cancel,
    )
    outputs: dict[str, Any] = {"annotations": str(path)}
    if share < 1.0:

        def importing(e: ProgressEvent) -> None:
            ctx.progress(share + e.fraction * (1 - share), e.message)

        report = import_dataset(ctx.project, [path], name=name, progress=importing, should_cancel=ctx.should_cancel)
        outputs.update(report.to_dict())
    return outputs


register_job(KIND, run, writer=True, params=param_specs)
