"""Error metrics of a candidate against its person's 3D label: one registration per metric
(name, title, unit, function, whether it needs the mesh's vertices), read by the project's
sampling (which computes and stores every registered metric), the store (which keeps a
candidate's errors keyed by metric name, so a new metric needs no schema migration) and
the app's candidate sets.

A new metric is one ``register_metric(ErrorMetric(...))`` call (see README, Extending).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from engine.errors import ShapeError
from engine.metrics import mpjpe, pa_mpjpe, pve

MetricFn = Callable[[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None], torch.Tensor]
"""fn(joints (N, 24, 3), vertices (N, V, 3) or None, gt_joints (N, 24, 3), gt_vertices
(N, V, 3) or None) -> (N,) errors, metres in, ``unit`` out. Vertices are None unless
``needs_vertices``."""


@dataclass(frozen=True)
class ErrorMetric:
    """name: the store's key ('mpjpe'). title: for people ('MPJPE'). unit: of the values
    ('mm'). needs_vertices: fn reads the meshes (costlier: decode them)."""

    name: str
    title: str
    unit: str
    fn: MetricFn
    needs_vertices: bool = False


_METRICS: dict[str, ErrorMetric] = {}


def register_metric(metric: ErrorMetric, replace: bool = False) -> None:
    """Make ``metric`` computed and stored with every labelled candidate from now on;
    ShapeError if its name is taken (unless ``replace``)."""
    if not metric.name.isidentifier():
        raise ShapeError(f"metric name must be an identifier, got {metric.name!r}")
    if metric.name in _METRICS and not replace:
        raise ShapeError(f"error metric {metric.name!r} is already registered")
    _METRICS[metric.name] = metric


def unregister_metric(name: str) -> None:
    """Forget a metric (tests and plug-ins that registered one for a while)."""
    _METRICS.pop(name, None)


def metrics() -> tuple[ErrorMetric, ...]:
    """Every registered metric, in registration order."""
    return tuple(_METRICS.values())


def get_metric(name: str) -> ErrorMetric:
    try:
        return _METRICS[name]
    except KeyError:
        raise ShapeError(f"unknown error metric {name!r}, expected one of {', '.join(_METRICS)}") from None


def compute_errors(joints: torch.Tensor, vertices: torch.Tensor | None, gt_joints: torch.Tensor,
                   gt_vertices: torch.Tensor | None, names: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
    """{metric name: (N,) errors} of N candidates against their labels, for every
    registered metric (or ``names``). A metric that needs vertices is left out when either
    side has none.

    joints, gt_joints: (N, 24, 3) metres; vertices, gt_vertices: (N, V, 3) metres or None."""
    chosen = metrics() if names is None else tuple(get_metric(n) for n in names)
    have_vertices = vertices is not None and gt_vertices is not None
    return {m.name: m.fn(joints, vertices if m.needs_vertices else None, gt_joints,
                         gt_vertices if m.needs_vertices else None)
            for m in chosen if have_vertices or not m.needs_vertices}


def _pve(joints: torch.Tensor, vertices: torch.Tensor | None, gt_joints: torch.Tensor,
         gt_vertices: torch.Tensor | None) -> torch.Tensor:
    """Vertices aligned by each body's own pelvis joint."""
    if vertices is None or gt_vertices is None:
        raise ShapeError("PVE needs the candidates' and the label's vertices")
    return pve(vertices, gt_vertices, joints[:, 0], gt_joints[:, 0])


register_metric(ErrorMetric("mpjpe", "MPJPE", "mm", lambda j, v, gj, gv: mpjpe(j, gj)))
register_metric(ErrorMetric("pa_mpjpe", "PA-MPJPE", "mm", lambda j, v, gj, gv: pa_mpjpe(j, gj)))
register_metric(ErrorMetric("pve", "PVE", "mm", _pve, needs_vertices=True))
