"""Standard 3D human mesh recovery metrics and the multi-hypothesis report.

All errors are reported in millimetres; all inputs are in metres.

- MPJPE: mean per-joint position error after root alignment (the pelvis, joint 0 of the
  24 SMPL joints, is subtracted from each body).
- PA-MPJPE: MPJPE after a similarity Procrustes alignment of the prediction to the ground
  truth (scale, rotation with the determinant fix so reflections are never used, and
  translation), as in SPIN / HMR evaluation code.
- PVE: mean per-vertex error, vertices aligned by the roots the caller passes (usually
  each body's own pelvis joint).

The geometry functions accept torch tensors or numpy arrays and return the same type; the
arithmetic is written once, against operations both libraries spell the same way.

A model that samples M hypotheses per person is reported four ways
(:func:`multi_hypothesis_report`): Min (oracle best of M), Select (the scorer's top-k),
Zero-noise (hypothesis ``zero_index``, sampled from zero noise) and Mean (the average of
the M hypotheses' errors, not the error of the averaged hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, TypeVar

import numpy as np
import torch

from engine.errors import ShapeError

Array = TypeVar("Array", np.ndarray, torch.Tensor)

METRES_TO_MM = 1000.0
REPORT_ROWS = ("Min", "Select", "Zero-noise", "Mean")


def _xp(*arrays):
    """The module (torch or numpy) that operates on ``arrays``; they must not be mixed."""
    is_torch = [isinstance(a, torch.Tensor) for a in arrays]
    if all(is_torch):
        return torch
    if not any(is_torch) and all(isinstance(a, np.ndarray) for a in arrays):
        return np
    raise ShapeError("metrics: inputs must be all torch tensors or all numpy arrays, not a mix")


def _check_points(name: str, pred, gt) -> None:
    if pred.ndim != 3 or pred.shape[-1] != 3:
        raise ShapeError(f"{name}: pred has shape {tuple(pred.shape)}, expected (B, N, 3)")
    if tuple(pred.shape) != tuple(gt.shape):
        raise ShapeError(
            f"{name}: pred shape {tuple(pred.shape)} differs from gt shape {tuple(gt.shape)}"
        )


def _mean_distance_mm(pred, gt):
    """(B, N, 3), (B, N, 3) metres -> (B,) mean Euclidean distance in mm."""
    xp = _xp(pred, gt)
    return xp.sqrt(((pred - gt) ** 2).sum(axis=-1)).mean(axis=-1) * METRES_TO_MM


def mpjpe(pred: Array, gt: Array, root_index: int | None = 0) -> Array:
    """Mean per-joint position error.

    pred, gt: (B, J, 3) joints, metres.
    root_index: joint subtracted from each body before comparing (0 = SMPL pelvis);
        None compares the joints as given.
    Returns (B,) errors in mm, same type (torch or numpy) as the inputs.
    """
    _xp(pred, gt)
    _check_points("mpjpe", pred, gt)
    if root_index is not None:
        if not -pred.shape[1] <= root_index < pred.shape[1]:
            raise ShapeError(f"mpjpe: root_index {root_index} out of range for {pred.shape[1]} joints")
        pred = pred - pred[:, root_index][:, None]
        gt = gt - gt[:, root_index][:, None]
    return _mean_distance_mm(pred, gt)


def similarity_procrustes(pred: Array, gt: Array) -> Array:
    """Align ``pred`` to ``gt`` with the best scale, rotation and translation (Umeyama).

    pred, gt: (B, N, 3) points, metres.
    Returns (B, N, 3): ``s * pred @ R + t`` minimising the squared distance to ``gt``.
    R is a proper rotation (det +1): when the unconstrained optimum is a reflection the
    last singular direction is flipped, so a mirrored body is not explained away.
    """
    xp = _xp(pred, gt)
    _check_points("similarity_procrustes", pred, gt)
    # Positional reductions read the same for numpy (axis) and torch (dim).
    mu_pred = pred.mean(1)[:, None]
    mu_gt = gt.mean(1)[:, None]
    x = pred - mu_pred
    y = gt - mu_gt
    cross = xp.swapaxes(x, -1, -2) @ y  # (B, 3, 3)
    u, singular, vh = xp.linalg.svd(cross)
    d = xp.sign(xp.linalg.det(u @ vh))  # (B,) +1 rotation, -1 reflection
    # U diag(1, 1, d) Vh, written as a rank-one correction so both libraries share it.
    flip = (d - 1.0)[:, None, None]
    rotation = u @ vh + flip * (u[:, :, 2:] @ vh[:, 2:, :])
    trace = singular.sum(axis=-1) + (d - 1.0) * singular[:, 2]
    scale = trace / (x**2).sum(-1).sum(-1)
    return scale[:, None, None] * (x @ rotation) + mu_gt


def pa_mpjpe(pred: Array, gt: Array) -> Array:
    """MPJPE after similarity Procrustes alignment.

    pred, gt: (B, J, 3) joints, metres. Returns (B,) errors in mm.
    Root alignment is unnecessary: the Procrustes translation subsumes it.
    """
    return _mean_distance_mm(similarity_procrustes(pred, gt), gt)


def pve(
    pred_vertices: Array,
    gt_vertices: Array,
    pred_root: Array | None = None,
    gt_root: Array | None = None,
) -> Array:
    """Mean per-vertex error.

    pred_vertices, gt_vertices: (B, V, 3) vertices, metres.
    pred_root, gt_root: (B, 3) metres, subtracted from each body's vertices (pass each
        body's pelvis joint, ``joints[:, 0]``, for the usual root-aligned PVE); both None
        compares the vertices as given.
    Returns (B,) errors in mm.
    """
    _xp(pred_vertices, gt_vertices)
    _check_points("pve", pred_vertices, gt_vertices)
    if (pred_root is None) != (gt_root is None):
        raise ShapeError("pve: pass both pred_root and gt_root, or neither")
    if pred_root is not None and gt_root is not None:
        _xp(pred_vertices, pred_root, gt_root)
        expected = (pred_vertices.shape[0], 3)
        for name, root in (("pred_root", pred_root), ("gt_root", gt_root)):
            if tuple(root.shape) != expected:
                raise ShapeError(f"pve: {name} has shape {tuple(root.shape)}, expected {expected}")
        pred_vertices = pred_vertices - pred_root[:, None, :]
        gt_vertices = gt_vertices - gt_root[:, None, :]
    return _mean_distance_mm(pred_vertices, gt_vertices)


@dataclass(frozen=True)
class HypothesisReport:
    """Errors of a multi-hypothesis model, each averaged over persons, in mm.

    metrics: column names, e.g. ("MPJPE", "PA-MPJPE", "PVE").
    rows: row names, a subset of ("Min", "Select", "Zero-noise", "Mean") in that order;
        "Select" is present only when scores were given.
    values: values[i][j] is row i, metric j.
    num_persons, num_hypotheses: N and M of the error arrays.
    top_k: how many top-scored hypotheses "Select" averages.
    """

    metrics: tuple[str, ...]
    rows: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    num_persons: int
    num_hypotheses: int
    top_k: int

    def value(self, row: str, metric: str) -> float:
        """The mean error (mm) of one row and metric."""
        return self.values[self.rows.index(row)][self.metrics.index(metric)]

    def to_dict(self) -> dict[str, dict[str, float]]:
        """{row: {metric: mm}}, rows and metrics in report order."""
        return {
            row: dict(zip(self.metrics, vals)) for row, vals in zip(self.rows, self.values)
        }

    def to_markdown(self, decimals: int = 1) -> str:
        """A markdown table, one row per aggregation, values in mm."""
        header = "| | " + " | ".join(f"{m} (mm)" for m in self.metrics) + " |"
        rule = "|---|" + "---:|" * len(self.metrics)
        label = {"Select": f"Select (top-{self.top_k})"}
        lines = [header, rule]
        for row, vals in zip(self.rows, self.values):
            cells = " | ".join(f"{v:.{decimals}f}" for v in vals)
            lines.append(f"| {label.get(row, row)} | {cells} |")
        return "\n".join(lines)


def multi_hypothesis_report(
    errors: Mapping[str, np.ndarray],
    scores: np.ndarray | None = None,
    top_k: int = 1,
    zero_index: int = 0,
) -> HypothesisReport:
    """Summarise per-hypothesis errors of N persons with M hypotheses each.

    errors: {metric name: (N, M) errors in mm}, e.g. from :func:`mpjpe` per hypothesis.
    scores: (N, M) scorer outputs, higher = better; None leaves out the "Select" row.
    top_k: "Select" averages the errors of each person's k highest-scored hypotheses
        (ties keep the lower hypothesis index).
    zero_index: the hypothesis sampled from zero noise.

    Rows, each a mean over persons:
      Min: per person the smallest error among the M hypotheses, taken per metric, so the
        three metrics may come from different hypotheses (the usual oracle number).
      Select: the mean error of the scorer's top-k hypotheses (the same hypotheses for
        every metric).
      Zero-noise: the error of hypothesis ``zero_index``.
      Mean: the average of the M hypotheses' errors (not the error of the mean mesh).
    """
    if not errors:
        raise ShapeError("multi_hypothesis_report: errors is empty")
    arrays = {name: np.asarray(e, dtype=np.float64) for name, e in errors.items()}
    shape = next(iter(arrays.values())).shape
    for name, e in arrays.items():
        if e.ndim != 2 or e.shape != shape or e.size == 0:
            raise ShapeError(
                f"multi_hypothesis_report: errors[{name!r}] has shape {e.shape}, expected "
                f"a non-empty (N, M) shared by all metrics (first is {shape})"
            )
        if not np.all(np.isfinite(e)):
            raise ShapeError(f"multi_hypothesis_report: errors[{name!r}] has non-finite values")
    n, m = shape
    if not 0 <= zero_index < m:
        raise ShapeError(f"multi_hypothesis_report: zero_index {zero_index} out of range for M={m}")
    if not 1 <= top_k <= m:
        raise ShapeError(f"multi_hypothesis_report: top_k {top_k} out of range for M={m}")

    rows: dict[str, list[float]] = {
        "Min": [float(e.min(axis=1).mean()) for e in arrays.values()]
    }
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != shape or not np.all(np.isfinite(scores)):
            raise ShapeError(
                f"multi_hypothesis_report: scores has shape {scores.shape} or non-finite "
                f"values, expected finite (N, M) = {shape}"
            )
        top = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]  # (N, k)
        rows["Select"] = [
            float(np.take_along_axis(e, top, axis=1).mean()) for e in arrays.values()
        ]
    rows["Zero-noise"] = [float(e[:, zero_index].mean()) for e in arrays.values()]
    rows["Mean"] = [float(e.mean()) for e in arrays.values()]
    return HypothesisReport(
        metrics=tuple(arrays),
        rows=tuple(rows),
        values=tuple(tuple(v) for v in rows.values()),
        num_persons=n,
        num_hypotheses=m,
        top_k=top_k,
    )


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """(N,) values -> (N,) ranks starting at 1, tied values sharing their mean rank."""
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    starts_group = np.concatenate(([True], sorted_x[1:] != sorted_x[:-1]))
    group = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.concatenate((starts[1:], [x.size]))
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = ((starts + ends - 1) / 2.0 + 1.0)[group]
    return ranks


def _paired_vectors(name: str, a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size != b.size or a.size < 2:
        raise ShapeError(f"{name}: need two equally long inputs of 2+ values, got {a.size} and {b.size}")
    return a, b


def pearson(a, b) -> float:
    """Pearson linear correlation of two equally long 1-D sequences; NaN if one is constant."""
    a, b = _paired_vectors("pearson", a, b)
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def spearman(a, b) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if one input is constant."""
    a, b = _paired_vectors("spearman", a, b)
    return pearson(_average_ranks(a), _average_ranks(b))


@dataclass(frozen=True)
class RankingCorrelation:
    """How well scores rank candidates, correlating -score with error (1 = perfect).

    srcc, plcc: Spearman and Pearson correlation per image (over its M candidates),
        averaged over the images where both are defined (non-constant scores and errors).
    srcc_global, plcc_global: the same over all N x M candidates pooled.
    num_images: images that entered the per-image averages.
    """

    srcc: float
    plcc: float
    srcc_global: float
    plcc_global: float
    num_images: int


def ranking_correlation(scores: np.ndarray, errors: np.ndarray) -> RankingCorrelation:
    """Correlate a scorer with errors.

    scores: (N, M) scores, higher = better. errors: (N, M) errors (any unit).
    A good scorer gives correlations near +1 (high score, low error).
    """
    scores = np.asarray(scores, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    if scores.ndim != 2 or scores.shape != errors.shape or scores.shape[1] < 2:
        raise ShapeError(
            f"ranking_correlation: scores {scores.shape} and errors {errors.shape} must "
            "share an (N, M) shape with M >= 2"
        )
    per_image = [(spearman(-s, e), pearson(-s, e)) for s, e in zip(scores, errors)]
    defined = [(sr, pl) for sr, pl in per_image if np.isfinite(sr) and np.isfinite(pl)]
    srcc, plcc = np.mean(defined, axis=0) if defined else (float("nan"), float("nan"))
    return RankingCorrelation(
        srcc=float(srcc),
        plcc=float(plcc),
        srcc_global=spearman(-scores, errors),
        plcc_global=pearson(-scores, errors),
        num_images=len(defined),
    )
