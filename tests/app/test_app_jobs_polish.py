"""Jobs: a failed job is not offered Resume; live plots over training steps, with the x
axis named once."""

from app.widgets.live_plot import LivePlot
from engine.jobs import JobSpec


def test_a_failed_job_offers_no_resume(qtbot, make_window, project_path):
    w = make_window()
    assert w.open_project(project_path)
    w.docks["jobs"].raise_()
    panel = w.extra["jobs"]
    with qtbot.waitSignal(panel.runner.finished, timeout=60_000) as finished:
        job_id = panel.runner.start(JobSpec("dpo", {"checkpoint": "default"}))  # the project has no pairs
    assert not finished.args[1].ok
    panel.refresh(select=job_id)
    panel.show_selected()
    assert panel.records[job_id].status == "failed"
    assert not panel.resume_button.isEnabled()
    assert "no reviewed+proposed pairs to train on" in panel.status_line.text()
    assert "--" not in panel.status_line.text()


def test_live_plots_run_over_steps(qtbot):
    plot = LivePlot()
    qtbot.addWidget(plot)
    plot.set_reports([{"fraction": s / 50, "step": s, "loss": 1.0 / s, "implicit_acc": 0.5} for s in range(1, 51)])
    assert plot.shown() == ["implicit_acc", "loss"]
    assert plot.curves["loss"].xData[-1] == 50 and plot.points("loss") == 50
    assert plot.x_caption.text() == "x: training step"
    # No axis title under each small plot: it is said once, under the metric list.
    assert all(p.getAxis("bottom").labelText == "" for p in plot.plots.values())
    plot.set_reports([{"fraction": 0.5, "mpjpe": 90.0}, {"fraction": 1.0, "mpjpe": 80.0}])
    assert plot.x_caption.text() == "x: % of the job done" and list(plot.curves["mpjpe"].xData) == [50.0, 100.0]
