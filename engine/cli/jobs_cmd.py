"""``adhmr jobs``: list, inspect, run, resume and cancel a project's jobs.

Also home of the helpers the project commands share: opening a project and running a
job in the foreground with a progress bar (Ctrl+C cancels it and keeps its state).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EPILOG_RESUME = "resume it with: adhmr jobs {project} resume {job}"


def open_project(path: Path):
    """Open a project for a command; StoreError (exit 1) leaves the file untouched."""
    from engine.store import Project

    return Project.open(path)


def run_in_foreground(project, spec_or_id, description: str, resume: bool = False):
    """Run a job (a JobSpec, or a job id to resume) here with a tqdm bar; returns its
    JobResult, or None after Ctrl+C (the job is then cancelled, its state kept)."""
    from engine.cli.progress import TqdmProgress
    from engine.jobs import list_jobs, resume_job, run_job

    try:
        with TqdmProgress(description) as bar:
            if resume:
                return resume_job(project, spec_or_id, progress_cb=bar)
            return run_job(project, spec_or_id, progress_cb=bar)
    except KeyboardInterrupt:
        jobs = [spec_or_id] if resume else [j.id for j in list_jobs(project, kind=spec_or_id.kind)[:1]]
        for job in jobs:
            print(f"cancelled job {job}; " + EPILOG_RESUME.format(project=project.path, job=job), file=sys.stderr)
        return None


def report_result(project, result, what: str) -> int:
    """Print how a job ended; the exit code (0 done, 1 failed or cancelled, 130 Ctrl+C)."""
    if result is None:
        return 130
    if result.ok:
        return 0
    hint = EPILOG_RESUME.format(project=project.path, job=result.job_id)
    print(f"adhmr {what}: error: job {result.job_id} {result.status}: {result.error}; {hint}", file=sys.stderr)
    return 1


def parse_params(items: list[str]) -> dict[str, Any]:
    """``key=value`` strings to params: values are JSON when they parse (numbers, true,
    lists), strings otherwise; a key given twice collects a list."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--param expects key=value, got {item!r}")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        if key in params:
            old = params[key]
            params[key] = (old if isinstance(old, list) else [old]) + [value]
        else:
            params[key] = value
    return params


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "jobs",
        help="list, show, run, resume or cancel the jobs of a project",
        description=(
            "Every long piece of work in a project (import, detect, synth, sample, score,\n"
            "train-base, train-scorer, eval, ...) is a job with progress, a log and metrics.\n"
            "'run' starts any job kind here with a progress bar; Ctrl+C cancels it and keeps\n"
            "its state, and 'resume' picks it up where it stopped (also after a crash).\n"
            "'cancel' asks a job running in another process (or the app) to stop.\n\n"
            "examples:\n"
            "  adhmr jobs study.adhmr list\n"
            "  adhmr jobs study.adhmr show 3\n"
            "  adhmr jobs study.adhmr run sample --param dataset=photos --param M=20\n"
            "  adhmr jobs study.adhmr run train-scorer --param dataset=synthetic-studio --param steps=2000\n"
            "  adhmr jobs study.adhmr resume 3\n"
            "  adhmr jobs study.adhmr cancel 3\n"
            "  adhmr jobs study.adhmr kinds"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("project", type=Path, help="the project file")
    actions = p.add_subparsers(dest="jobs_action", metavar="ACTION", required=True)
    ls = actions.add_parser("list", help="jobs, newest first, with status and progress")
    ls.add_argument("--status", default=None, help="only jobs of this status (running, done, crashed, ...)")
    ls.add_argument("--kind", default=None, help="only jobs of this kind")
    ls.set_defaults(func=_list)
    show = actions.add_parser("show", help="a job's params, outputs, metrics summary and log tail")
    show.add_argument("job", type=int)
    show.add_argument("--lines", type=int, default=20, help="log lines to show (default 20)")
    show.set_defaults(func=_show)
    run = actions.add_parser(
        "run", help="run a job kind here with a progress bar",
        description="Run KIND with the given params (see 'adhmr jobs PROJECT kinds').\n\n"
                    "example:\n  adhmr jobs study.adhmr run sample --param dataset=photos --param M=20",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("kind")
    run.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                     help="a parameter (JSON value or text); repeat a key for a list")
    run.set_defaults(func=_run)
    resume = actions.add_parser("resume", help="run a failed, cancelled or crashed job again here")
    resume.add_argument("job", type=int)
    resume.set_defaults(func=_resume)
    cancel = actions.add_parser("cancel", help="ask a job to stop (a running one stops within a second)")
    cancel.add_argument("job", type=int)
    cancel.set_defaults(func=_cancel)
    kinds = actions.add_parser("kinds", help="the job kinds this installation can run, with their params")
    kinds.set_defaults(func=_kinds)


def _list(args: argparse.Namespace) -> int:
    from engine.jobs import list_jobs

    with open_project(args.project) as project:
        jobs = list_jobs(project, status=args.status, kind=args.kind)
    if not jobs:
        print("no jobs")
        return 0
    print(f"{'ID':>4}  {'KIND':<13} {'STATUS':<16} {'PROGRESS':>8}  {'CREATED':<19}  MESSAGE")
    for j in jobs:
        created = j.created_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{j.id:>4}  {j.kind:<13} {j.status:<16} {j.progress:>7.0%}  {created}  {j.message[:60]}")
    return 0


def _metrics_summary(history: list[dict[str, Any]]) -> list[str]:
    names: dict[str, list[float]] = {}
    for row in history:
        for k, v in row.items():
            if k != "fraction" and v is not None:
                names.setdefault(k, []).append(v)
    return [
        f"  {k:<20} last {v[-1]:.4g}  min {min(v):.4g}  max {max(v):.4g}  ({len(v)} reports)"
        for k, v in names.items()
    ]


def _show(args: argparse.Namespace) -> int:
    from engine.jobs import get_job, job_metrics

    with open_project(args.project) as project:
        j = get_job(project, args.job)
        history = job_metrics(project, args.job)
    print(f"job {j.id}: {j.kind}, {j.status}, {j.progress:.0%} {j.message}")
    print(f"attempts: {j.attempts}" + (f", last by pid {j.pid} on {j.host}" if j.pid else ""))
    times = [("created", j.created_at), ("started", j.started_at), ("finished", j.finished_at)]
    print(", ".join(f"{name} {t:%Y-%m-%d %H:%M:%S}" for name, t in times if t is not None))
    print("params: " + json.dumps(j.params, sort_keys=True))
    if j.error:
        print(f"error: {j.error}")
    if j.outputs is not None:
        text = json.dumps(j.outputs, sort_keys=True)
        print("outputs: " + (text if len(text) <= 2000 else text[:2000] + " ..."))
    summary = _metrics_summary(history)
    if summary:
        print("metrics:")
        print("\n".join(summary))
    lines = j.log.splitlines()[-args.lines:] if args.lines > 0 else []
    if lines:
        print("log:")
        print("\n".join("  " + line for line in lines))
    return 0


def _run(args: argparse.Namespace) -> int:
    from engine.jobs import JobSpec, check_job_params

    try:
        params = parse_params(args.param)
    except argparse.ArgumentTypeError as e:
        print(f"adhmr jobs: error: {e}", file=sys.stderr)
        return 2
    check_job_params(args.kind, params)
    with open_project(args.project) as project:
        result = run_in_foreground(project, JobSpec(args.kind, params), args.kind)
        code = report_result(project, result, "jobs")
        if code == 0:
            print(f"job {result.job_id} done: " + json.dumps(result.outputs, sort_keys=True)[:2000])
    return code


def _resume(args: argparse.Namespace) -> int:
    from engine.jobs import get_job

    with open_project(args.project) as project:
        kind = get_job(project, args.job).kind
        result = run_in_foreground(project, args.job, kind, resume=True)
        code = report_result(project, result, "jobs")
        if code == 0:
            print(f"job {result.job_id} done: " + json.dumps(result.outputs, sort_keys=True)[:2000])
    return code


def _cancel(args: argparse.Namespace) -> int:
    from engine.jobs import cancel_job, get_job

    with open_project(args.project) as project:
        before = get_job(project, args.job).status
        after = cancel_job(project, args.job)
    if after == "cancel_requested":
        print(f"job {args.job}: cancel requested; it stops at its next check (within about a second)")
    elif after == "cancelled" and before != "cancelled":
        print(f"job {args.job}: cancelled (it was {before})")
    else:
        print(f"job {args.job} is {after}; nothing to cancel")
    return 0


def _kinds(args: argparse.Namespace) -> int:
    from engine.jobs import job_kind, registered_kinds

    for name in registered_kinds():
        kind = job_kind(name)
        print(f"{name}{' (writer)' if kind.writer else ''}")
        specs = kind.params()
        lines = [_param_line(s) for s in specs] if specs else (kind.fn.__doc__ or "").strip().splitlines()
        for line in lines:
            print(f"    {line.strip()}")
    return 0


def _param_line(s) -> str:
    """One parameter of ``adhmr jobs PROJECT kinds``: name, type, default, bounds, help."""
    what = s.kind + (f" {'|'.join(s.choices)}" if s.choices else "")
    default = "required" if s.required else f"default {json.dumps(s.default, default=str)}"
    bounds = f", {s.bounds_text()}" if s.bounds_text() else ""
    return f"{s.name} ({what}, {default}{bounds}): {s.help}"
