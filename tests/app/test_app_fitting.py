"""Fit a Candidate and Refine Selected Candidates: the body fit stored beside the sampled
candidates, scored, and selected."""

import numpy as np
from test_app_curation import add_candidates

from engine import store


def test_fit_then_refine_store_candidates_beside_the_sampled_ones(qtbot, make_window, project_path):
    add_candidates(project_path, "astronaut.png", [0.9, 0.5, 0.1])
    w = make_window()
    assert w.open_project(project_path)
    s = w.state
    assert w.actions["fit_body"].isEnabled()
    w.actions["fit_body"].trigger()
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=120_000)
    assert w.last_error is None, w.last_error
    runs = store.sample_runs_of_person(s.project, s.person.id)
    assert len(runs) == 2 and runs[-1].steps == 0
    (fitted,) = store.candidates_of_person(s.project, s.person.id, runs[-1].id)
    assert fitted.score is not None and np.isfinite(fitted.params).all()
    assert len(s.candidates) == 4 and s.candidates.run_ids[s.selected[0]] == runs[-1].id
    # The fit follows the person's keypoints: its COCO points land near them in the photo.
    i = s.selected[0]
    kp = s.person.keypoints
    ok = kp[:, 2] > 0.5
    assert np.median(np.linalg.norm(s.candidates.keypoints_px(i)[ok] - kp[ok, :2], axis=1)) < 40

    # Refine two selected candidates: two more, one run.
    w.candidate_table.select_rows([1, 2])
    w.actions["refine"].trigger()
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=120_000)
    assert w.last_error is None, w.last_error
    runs = store.sample_runs_of_person(s.project, s.person.id)
    assert len(runs) == 3 and len(store.candidates_of_person(s.project, s.person.id, runs[-1].id)) == 2
    assert len(s.selected) == 2 and "Refining: 2 candidates stored" in w.status_message.text()
