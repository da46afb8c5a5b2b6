"""The cleaning review when scores saturate (logit or rank axis), and a preview that shows
the mesh and says the sample's call after K / D."""

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from test_app_cleaning import make_cleaning_project

from app.panels.cleaning_thumbs import THUMB_SIZE
from app.widgets.score_histogram import ScoreHistogram


def test_saturated_scores_spread_out_on_a_logit_axis_then_by_rank(qtbot):
    hist = ScoreHistogram()
    qtbot.addWidget(hist)
    spread = np.array([0.2, 0.5, 0.9])
    hist.set_scores(spread, 0.5)
    assert hist.scale == "score" and hist.threshold == pytest.approx(0.5)

    # Twelve scores between 0.99990 and 0.999999: one bar on a score axis, several on the logit's.
    saturated = 1 - np.geomspace(1e-4, 1e-6, 12)
    hist.set_scores(saturated, float(saturated[6]))
    assert hist.scale == "logit" and "logit" in hist.getAxis("bottom").labelText
    assert (hist.counts > 0).sum() >= 6
    assert hist.threshold == pytest.approx(saturated[6], abs=1e-12)
    # The line speaks in scores: dragging it to the ninth sample's logit keeps the top four.
    with qtbot.waitSignal(hist.thresholdChanged) as moved:
        hist.line.setValue(float(np.log(saturated[8] / (1 - saturated[8]))))
    assert moved.args[0] == pytest.approx(saturated[8], abs=1e-12)
    assert int((saturated >= hist.threshold - 1e-12).sum()) == 4

    # Scores a float cannot tell from 1 apart from one: by rank, the line at the tie.
    tied = np.array([1.0] * 11 + [0.999999999999])
    hist.set_scores(tied, 1.0)
    assert hist.scale == "rank" and "rank" in hist.getAxis("bottom").labelText
    assert hist.threshold == 1.0


def test_the_preview_shows_the_mesh_and_its_call_after_d(qtbot, make_window, tmp_path):
    w = make_window()
    assert w.open_project(make_cleaning_project(tmp_path))
    w.docks["cleaning"].raise_()
    panel = w.extra["cleaning"]
    qtbot.waitUntil(lambda: panel.visibility.on_screen and panel.run is not None)
    # The dock grows so that the preview is more than a thumbnail.
    qtbot.waitUntil(lambda: w.docks["cleaning"].height() >= 0.4 * w.height())
    panel.table.setFocus()
    panel.select_rows([0])
    qtbot.waitUntil(lambda: "kept by the scorer" in panel.preview_info.text())
    assert panel.preview.height() >= 1.5 * THUMB_SIZE  # more than the list's own thumbnails
    assert panel.preview.keypoint_group is None and panel.preview.candidate_items  # mesh, no markers
    qtbot.keyClick(panel.table, Qt.Key.Key_D)
    assert "dropped by you" in panel.preview_info.text()
    qtbot.keyClick(panel.table, Qt.Key.Key_U)
    assert "kept by the scorer" in panel.preview_info.text()
    panel.preview_keypoints.setChecked(True)
    assert panel.preview.keypoint_group is not None
