"""Per-view errors of camera-oriented predictions against a world-frame 3D reference.

Every method predicts a body oriented like the camera that filmed it (OpenCV axes:
x right, y down, z forward) and without a global position. The reference is in the
world frame, so for each view it is rotated into that camera (``R @ X``; the translation
drops out with the alignment) before comparing:

* MPJPE: both bodies' hip midpoints moved to the origin, then the mean joint distance.
  It counts the predicted body's orientation relative to the camera.
* PA-MPJPE: the prediction aligned to the reference by the best similarity (scale,
  rotation, translation; ``engine.metrics.pa_mpjpe``), then the mean joint distance.

Each (frame, camera) pair is one evaluated view. Errors are in millimetres over the 12
evaluation joints (:mod:`engine.multiview.joints`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import ShapeError
from engine.metrics import mpjpe, multi_hypothesis_report, pa_mpjpe
from engine.multiview.joints import hip_aligned

MULTI_HYPOTHESIS_ROWS = {"zero_noise": "Zero-noise", "select": "Select", "min": "Min"}
"""Method names for the rows of ``engine.metrics.multi_hypothesis_report``."""


@dataclass(frozen=True)
class MethodResult:
    """One method's errors averaged over the evaluated views, mm."""

    mpjpe: float
    pa_mpjpe: float
    views: int

    def to_dict(self) -> dict[str, float | int]:
        return {"mpjpe": round(self.mpjpe, 1), "pa_mpjpe": round(self.pa_mpjpe, 1), "views": self.views}


def reference_in_camera(reference: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(12, 3) world metres and (3, 3) world-to-camera rotation -> (12, 3) camera-oriented
    metres, hip midpoint at the origin."""
    return hip_aligned(np.asarray(reference, np.float64) @ np.asarray(rotation, np.float64).T)


def view_errors(prediction: np.ndarray, reference_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Errors of K hypotheses for one view.

    prediction: (K, 12, 3) camera-oriented metres. reference_cam: (12, 3) from
    :func:`reference_in_camera`. Returns (MPJPE (K,), PA-MPJPE (K,)) in mm.
    """
    prediction = np.asarray(prediction, np.float64)
    if prediction.ndim != 3 or prediction.shape[1:] != (12, 3) or reference_cam.shape != (12, 3):
        raise ShapeError(
            f"evaluation: prediction {prediction.shape} and reference {reference_cam.shape} "
            "must be (K, 12, 3) and (12, 3)"
        )
    pred = hip_aligned(prediction)
    ref = np.broadcast_to(reference_cam, pred.shape).copy()
    return mpjpe(pred, ref, root_index=None), pa_mpjpe(pred, ref)


def summarise_single(errors: list[tuple[float, float]]) -> MethodResult:
    """[(MPJPE, PA-MPJPE) per view] -> their means."""
    e = np.asarray(errors, np.float64).reshape(-1, 2)
    if len(e) == 0:
        raise ShapeError("evaluation: no view was evaluated")
    return MethodResult(float(e[:, 0].mean()), float(e[:, 1].mean()), len(e))


def summarise_hypotheses(
    mpjpes: np.ndarray, pa_mpjpes: np.ndarray, scores: np.ndarray | None
) -> dict[str, MethodResult]:
    """Zero-noise, Select (the top-scored hypothesis) and Min (oracle best of M) results.

    mpjpes, pa_mpjpes, scores: (N views, M hypotheses); hypothesis 0 is the zero-noise
    one. Without scores there is no "select".
    """
    report = multi_hypothesis_report(
        {"MPJPE": mpjpes, "PA-MPJPE": pa_mpjpes}, scores, top_k=1, zero_index=0
    )
    n = int(np.shape(mpjpes)[0])
    return {
        name: MethodResult(report.value(row, "MPJPE"), report.value(row, "PA-MPJPE"), n)
        for name, row in MULTI_HYPOTHESIS_ROWS.items()
        if row in report.rows
    }
