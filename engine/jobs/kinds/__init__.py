"""The job kinds of a project: thin adapters from job params to one engine function each.

A kind is a module here ending in ``register_job(KIND, run, writer=...)``, where
``run(params, ctx)`` checks its params against ``param_specs()`` (``_params.values``; the
same descriptions, passed as ``params=``, build the CLI and the app's form), calls the
engine function with ``progress=ctx.report`` and ``should_cancel=ctx.should_cancel``, resumes from
``ctx.state_dir`` or the project's tables, and returns JSON outputs. Heavy imports stay
inside ``run`` so listing the kinds is cheap. To add a kind: one module, one line below.
"""

from engine.jobs.kinds import (
    clean,  # noqa: F401
    detect,  # noqa: F401
    fit,  # noqa: F401
    dpo,  # noqa: F401
    evaluate,  # noqa: F401
    import_,  # noqa: F401
    pairs,  # noqa: F401
    sample,  # noqa: F401
    score,  # noqa: F401
    synth,  # noqa: F401
    train_base,  # noqa: F401
    train_scorer,  # noqa: F401
)
