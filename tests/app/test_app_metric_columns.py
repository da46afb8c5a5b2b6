"""A metric registered once (engine.metric_registry) is a column of the candidate table and
rows of the before/after comparison, with no edit to the app."""

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from app.dialogs.compare_dialog import Side, summary_rows
from app.panels.candidate_table import CandidateTableModel
from engine.metric_registry import ErrorMetric, register_metric, unregister_metric


@pytest.fixture
def worst_joint():
    def fn(joints, vertices, gt_joints, gt_vertices):
        return (joints - gt_joints).norm(dim=-1).amax(-1) * 1000

    register_metric(ErrorMetric("worst_joint", "Worst joint", "mm", fn))
    yield
    unregister_metric("worst_joint")


def _headers(model):
    return [model.headerData(i, Qt.Orientation.Horizontal) for i in range(model.columnCount())]


def test_a_registered_metric_is_a_table_column_and_compare_rows(qtbot, worst_joint):
    model = CandidateTableModel(state=None)
    headers = _headers(model)
    assert headers[:3] == ["Rank", "Show", "Score"] and headers[-2:] == ["Run", "#"]
    assert headers[3:-2] == ["MPJPE", "PA-MPJPE", "PVE", "Worst joint"]
    col = headers.index("Worst joint")
    assert model.error_of_column[col] == "worst_joint"
    assert model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == "Worst joint, mm"

    def side(label, worst):
        errors = {"mpjpe": np.array([50.0, 60.0]), "pa_mpjpe": np.array([40.0, 45.0]),
                  "pve": np.array([70.0, 80.0]), "worst_joint": np.array(worst)}
        return Side(label, np.zeros((2, 3)), np.array([0.9, 0.1]), errors, np.zeros((2, 1, 3)), np.zeros((2, 17, 3)))

    rows = {what: (b, a) for what, b, a in summary_rows(side("before", [120.0, 90.0]), side("after", [80.0, 99.0]))}
    assert rows["Worst joint of the pick"] == ("120.0 mm", "80.0 mm")
    assert rows["Worst joint best of M"] == ("90.0 mm", "80.0 mm")


def test_without_the_registration_the_column_is_gone(qtbot):
    assert "Worst joint" not in _headers(CandidateTableModel(state=None))
