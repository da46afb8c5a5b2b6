"""The per-vertex error view: where a person has a 3D label, the 3D view colours the
selected candidates by each vertex's distance to it."""

import numpy as np
from test_app_curation import add_candidates, candidate_params

from engine.projects.rendering import error_colors


def test_error_colours_the_selected_candidates_by_distance_to_the_label(qtbot, make_window, tmp_path):
    from app_helpers import make_project

    path = make_project(tmp_path, gt_label=candidate_params(3)[0])
    _, ids = add_candidates(path, "astronaut.png", [0.5, 0.9, 0.1])  # candidate 0 is the label itself
    w = make_window()
    assert w.open_project(path)
    view = w.view3d
    w.flush_views()
    assert view.error_check.isEnabled() and not view.error_check.isChecked()
    index = {int(c): k for k, c in enumerate(w.state.candidates.ids)}
    w.state.select([index[ids[0]], index[ids[1]]])
    view.error_check.setChecked(True)
    w.flush_views()
    by_candidate = {s.candidate: s for s in view.slots if s.candidate is not None}
    exact, other = by_candidate[index[ids[0]]], by_candidate[index[ids[1]]]
    for slot in (exact, other):
        assert slot.full_actor.GetMapper().GetScalarVisibility()
    assert (exact.full.point_data["error_rgb"] == error_colors(0.0)).all()
    assert (other.full.point_data["error_rgb"] != error_colors(0.0)).any(axis=1).mean() > 0.5
    # Unchecked: the score colours again.
    view.error_check.setChecked(False)
    w.flush_views()
    assert not exact.full_actor.GetMapper().GetScalarVisibility()

    # A person without a label has nothing to measure against.
    w.step_image(1)
    add_candidates(path, "synthetic.png", [0.3, 0.2])
    w.state.reload_candidates()
    w.flush_views()
    assert not view.error_check.isEnabled()
    assert np.isfinite(w.state.candidates.scores).all()
