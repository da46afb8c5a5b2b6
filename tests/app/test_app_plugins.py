"""Plug-in models in the app: chosen in Settings, used by the Sample action."""

import numpy as np
import torch
from engine import store
from engine.models.param_layout import ParamLayout

SAMPLE_TIMEOUT_MS = 60_000


def test_settings_offer_the_toy_plugin_and_sample_uses_it(qtbot, make_window, project_path):
    w = make_window(sample_count=6)
    dialog = w.open_settings()
    samplers = [dialog.sampler_model.itemData(i) for i in range(dialog.sampler_model.count())]
    scorers = [dialog.scorer_model.itemData(i) for i in range(dialog.scorer_model.count())]
    assert samplers == ["diffusion-hmr", "toy"] and scorers == ["hmr-scorer", "toy"]
    assert dialog.sampler_model.currentData() == "diffusion-hmr"
    dialog.sampler_model.setCurrentIndex(samplers.index("toy"))
    dialog.scorer_model.setCurrentIndex(scorers.index("toy"))
    dialog.accept()
    assert (w.state.prefs.sampler, w.state.prefs.scorer_model) == ("toy", "toy")

    assert w.open_project(project_path)
    w.actions["sample"].trigger()
    qtbot.waitUntil(lambda: not w.tasks.busy, timeout=SAMPLE_TIMEOUT_MS)
    assert w.last_error is None
    with store.Project.open(project_path) as p:
        person = store.persons_of_image(p, 1)[0]
        [run] = store.sample_runs_of_person(p, person.id)
        cands = store.candidates_of_person(p, person.id, run.id)
    assert run.checkpoint_id is None and run.m == 6
    pose, _, _ = ParamLayout().to_axis_angle(torch.from_numpy(np.stack([c.params for c in cands])))
    bend = pose[:, 3:].reshape(6, 23, 3).norm(dim=-1).sum(-1)
    # The toy sampler leaves hypothesis 0 straight and its scorer likes it best.
    assert float(bend[0]) < 1e-4 and (bend[1:] > 1).all()
    scores = [c.score for c in cands]
    assert max(scores) == scores[0]


def test_settings_refuse_a_plugin_that_is_no_longer_installed(qtbot, make_window):
    from dataclasses import replace

    w = make_window()
    w.apply_preferences(replace(w.state.prefs, sampler="gone"))
    dialog = w.open_settings()
    assert dialog.sampler_model.currentText() == "gone (not installed)"
    dialog.accept()
    assert dialog.isVisible() and "'gone' is not installed" in dialog.error_label.text()
    dialog.sampler_model.setCurrentIndex(0)
    dialog.accept()
    assert not dialog.isVisible() and w.state.prefs.sampler == "diffusion-hmr"
