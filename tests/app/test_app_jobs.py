"""The Jobs panel: start jobs from the dialog, watch their progress, cancel and resume."""

import numpy as np
import pytest

from engine import store

JOB_TIMEOUT_MS = 60_000


@pytest.fixture
def jobs_window(make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    w.docks["jobs"].raise_()
    return w, w.extra["jobs"]


def test_cancel_then_resume_a_synth_job(qtbot, jobs_window):
    w, panel = jobs_window
    dialog = panel.new_job("synth", {"n": 3, "size": 64})
    assert dialog.kind == "synth" and dialog.params()["n"] == 3 and dialog.params()["domain"] == "studio"
    with qtbot.waitSignal(panel.runner.started, timeout=5000) as started:
        dialog.accept()
    job_id = started.args[0]
    panel.runner.cancel(job_id)  # at once: the job stops at its first check
    qtbot.waitUntil(lambda: not panel.runner.is_running(job_id), timeout=JOB_TIMEOUT_MS)
    assert store.list_datasets(w.state.project)[-1].name == "photos"
    panel.refresh()
    row = panel._rows[job_id]
    assert panel.model.item(row, 2).text() == "cancelled"
    assert panel.resume_button.isEnabled()

    progress = []
    panel.runner.progressed.connect(lambda jid, e: progress.append(e.fraction))
    panel.select_job(job_id)
    panel.resume_button.click()
    assert panel.runner.is_running(job_id)
    qtbot.waitUntil(lambda: not panel.runner.is_running(job_id), timeout=JOB_TIMEOUT_MS)
    rec = store.list_datasets(w.state.project)
    assert [d.name for d in rec] == ["photos", "synth-studio"]
    assert panel.model.item(panel._rows[job_id], 2).text() == "done"
    assert panel.model.item(panel._rows[job_id], 3).data(panel_fraction_role()) == 1.0
    assert progress and progress == sorted(progress) and progress[-1] == 1.0
    # The window shows the new images.
    assert len(w.state.images) == 2 + 3

    # A short training run on them: its loss is plotted live from the progress events.
    dialog = panel.new_job("train-base", {"dataset": "synth-studio", "steps": 3, "batch_size": 2})
    for name, value in (("crop_size", 64), ("width", 32), ("layers", 1), ("heads", 2), ("log_every", 1),
                        ("workers", 0), ("augment", False)):
        dialog.set_value(name, value)
    assert dialog.params()["steps"] == 3 and dialog.params()["width"] == 32
    with qtbot.waitSignal(panel.runner.started, timeout=5000) as started:
        dialog.accept()
    train_id = started.args[0]
    assert panel.selected_job() == train_id
    qtbot.waitUntil(lambda: not panel.runner.is_running(train_id), timeout=JOB_TIMEOUT_MS)
    rec = panel.records[train_id]
    assert rec.status == "done", rec.error
    assert "loss" in panel.plot.shown()
    panel.plot.redraw()
    assert panel.plot.points("loss") == 3
    # Re-read from the store's metric history: the same three points.
    panel.refresh(select=train_id)
    panel.show_selected(reload=True)
    assert panel.plot.points("loss") == 3
    assert store.list_checkpoints(w.state.project, "base")[-1].id == rec.outputs["checkpoint_id"]


def panel_fraction_role():
    from app.panels.jobs_panel import FRACTION_ROLE

    return FRACTION_ROLE


def run_from_dialog(qtbot, panel, kind, preset):
    """Start a job from the New Job dialog and wait for it; its record."""
    dialog = panel.new_job(kind, preset)
    assert dialog.kind == kind
    with qtbot.waitSignal(panel.runner.started, timeout=5000) as started:
        dialog.accept()
    job_id = started.args[0]
    qtbot.waitUntil(lambda: not panel.runner.is_running(job_id), timeout=JOB_TIMEOUT_MS)
    rec = panel.records[job_id]
    assert rec.status == "done", rec.error
    return rec


def test_sample_pairs_dpo_then_before_after(qtbot, jobs_window, tiny_models):
    from engine.projects.checkpoints import register_checkpoint

    w, panel = jobs_window
    project = w.state.project
    base_id = register_checkpoint(project, tiny_models[0])
    register_checkpoint(project, tiny_models[1])
    # The forms' defaults, a few values changed: what a user starting each job would send.
    sample = run_from_dialog(qtbot, panel, "sample", {"dataset": "photos", "num_candidates": 6,
                                                       "checkpoint": base_id, "scorer": "latest"})
    assert sample.outputs["sampled"] == 2
    assert w.state.candidates is not None and len(w.state.candidates) == 6  # the views re-read the project
    pairs = run_from_dialog(qtbot, panel, "pairs", {"dataset": "photos", "min_margin": 0.0, "top_k": 2,
                                                     "bottom_k": 2, "pairs_per_image": 2})
    assert pairs.outputs["added"] == 4 == len(store.list_pairs(project, status="proposed"))
    dpo = run_from_dialog(qtbot, panel, "dpo", {"steps": 2, "batch_size": 2, "checkpoint": base_id})
    after = store.get_checkpoint(project, dpo.outputs["checkpoint_id"])
    assert after.kind == "dpo" and after.parent_id == base_id
    assert {"loss", "implicit_acc"} <= set(panel.plot.shown())

    # Before / after on the current image: the base model and the DPO model, same seed.
    panel.select_job(dpo.id)
    assert panel.compare_button.isEnabled()
    panel.compare_button.click()
    dialog = w.compare_dialog
    assert (dialog.before.id, dialog.after.id) == (base_id, after.id)
    qtbot.waitUntil(lambda: dialog.sides is not None, timeout=JOB_TIMEOUT_MS)
    before, tuned = dialog.sides
    assert before.params.shape == tuned.params.shape == (dialog.m_spin.value(), 157)
    assert not np.allclose(before.params, tuned.params)  # two steps of DPO moved the model
    assert list(dialog.compare.view_a.candidate_items) == [before.pick]
    assert list(dialog.compare.view_b.candidate_items) == [tuned.pick]
    rows = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert rows[:2] == ["score of the pick", "mean score"]
    assert dialog.table.item(0, 1).text() == f"{before.scores.max():.3f}"
    dialog.reject()


def test_the_form_comes_from_the_jobs_description(jobs_window):
    """Defaults, bounds and help of the DPO form are DPOConfig's; β = 0 cannot be entered,
    and typed in the JSON box it is refused with the engine's one line."""
    from PyQt6.QtWidgets import QDoubleSpinBox, QSpinBox

    from engine.training.dpo import DPOConfig

    _, panel = jobs_window
    dialog = panel.new_job("dpo", {})
    config = DPOConfig(out="o")
    beta = dialog.editors["beta"][1]
    assert isinstance(beta, QDoubleSpinBox) and beta.value() == config.beta
    beta.setValue(0.0)
    assert beta.value() > 0 and beta.minimum() > 0
    warmup, save_every = dialog.editors["warmup_steps"][1], dialog.editors["save_every"][1]
    assert isinstance(warmup, QSpinBox) and warmup.value() == config.warmup_steps and warmup.minimum() == 0
    assert save_every.value() == config.save_every and save_every.minimum() == 1
    assert "> 0" in beta.toolTip()
    dialog.extra.setText('{"beta": 0}')
    dialog._try_accept()
    assert dialog.isVisible() and dialog.error.text() == "job dpo: parameter 'beta' must be > 0, got 0.0"
    dialog.reject()
