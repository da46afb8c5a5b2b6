"""Cleaning review: what the scorer would drop from a pseudo-labelled dataset, and why.

Pick a dataset and one of its cleaning runs (or start one: the 'clean' job). The
histogram shows the scores of its pseudo-labels with the keep threshold as a draggable
line (or set the kept share in the spin box): the list, sorted by score, follows live
with the scorer's call at that threshold. Override calls one by one or in bulk: select
rows, then K (keep), D (drop) or U (back to the scorer's call), or tick Keep. Overrides
are committed to the store at once and undone with Ctrl+Z (Ctrl+Shift+Z / Ctrl+Y
redo). A moved threshold is saved as a new run (the stored run never changes), and
Export writes the kept samples as a dataset file (``engine.projects.export_dataset``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PyQt6.QtWidgets import QFileDialog, QWidget

from app.panels import PanelSpec
from app.panels.cleaning_rules import describe_rule, rule_threshold, threshold_for_fraction
from app.panels.cleaning_view import CleaningView
from app.state import AppState
from app.widgets.decision_history import DecisionHistory
from engine import store
from engine.errors import AdhmrError

log = logging.getLogger(__name__)

EXPORT_FILTER = "SPIN / ProHMR npz (*.npz);;COCO JSON (*.json)"


class CleaningPanel(CleaningView):
    """The Cleaning panel. ``run`` is the run shown (or None), ``model`` its rows."""

    def __init__(self, state: AppState, history: DecisionHistory, window=None, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.history = history
        self.window_ = window
        self.run: store.CleaningRunRecord | None = None
        self.dataset: store.DatasetRecord | None = None
        self.rule = 0.0
        self.last_export = None

        self.dataset_combo.activated.connect(lambda _i: self._dataset_chosen())
        self.run_combo.activated.connect(lambda _i: self.open_run(self.run_combo.currentData()))
        self.clean_button.clicked.connect(self.start_cleaning_job)
        self.export_button.clicked.connect(self.export_dialog)
        self.save_rule_button.clicked.connect(self.save_threshold_as_run)
        self.histogram.thresholdChanged.connect(self._line_moved)
        self.keep_spin.valueChanged.connect(self._fraction_set)
        self.model.toggleRequested.connect(self._toggle_rows)
        state.projectChanged.connect(self.refresh)
        history.changed.connect(self._history_changed)
        self._jobs = None
        if window is not None:
            from app.panels.jobs_runner import JobRunner

            self._jobs = JobRunner.of(window)
            self._jobs.finished.connect(self._job_finished)
        self.refresh()

    # --- datasets and runs ---------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """Re-read datasets and runs; keeps the dataset and run shown when they still exist.

        Put off until the panel is on screen, unless ``force``.
        """
        if not force and not self.visibility.on_screen and self.state.project is not None:
            self._stale = True
            return
        self._stale = False
        project = self.state.project
        keep_ds = self.dataset.id if self.dataset else None
        self.dataset_combo.clear()
        datasets = store.list_datasets(project) if project is not None else []
        for ds in datasets:
            self.dataset_combo.addItem(ds.name, ds.id)
        if not datasets:
            self.dataset = None
            self._fill_runs(None)
            return
        k = self.dataset_combo.findData(keep_ds) if keep_ds is not None else -1
        if k < 0:
            with_runs = [i for i, ds in enumerate(datasets) if store.list_cleaning_runs(project, ds.id)]
            k = with_runs[0] if with_runs else 0
        self.dataset_combo.setCurrentIndex(k)
        self._dataset_chosen(keep_run=True)

    def show_dataset(self, dataset: str | int, run_id: int | None = None) -> None:
        """Show a dataset (name or id) and one of its runs (default: the newest)."""
        self.refresh(force=True)
        combo = self.dataset_combo
        k = combo.findData(dataset) if isinstance(dataset, int) else combo.findText(dataset)
        if k >= 0:
            combo.setCurrentIndex(k)
            self.dataset = store.get_dataset(self.state.project, combo.currentData())
            self._fill_runs(run_id)

    def _dataset_chosen(self, keep_run: bool = False) -> None:
        ds_id = self.dataset_combo.currentData()
        self.dataset = None if ds_id is None else store.get_dataset(self.state.project, ds_id)
        self._fill_runs(self.run.id if keep_run and self.run else None)

    def _fill_runs(self, select_run: int | None) -> None:
        self.run_combo.clear()
        runs = store.list_cleaning_runs(self.state.project, self.dataset.id) if self.dataset is not None else []
        for r in runs:
            when = r.created_at.astimezone().strftime("%m-%d %H:%M")
            ckpt = f" · scorer #{r.checkpoint_id}" if r.checkpoint_id else ""
            self.run_combo.addItem(f"#{r.id}: {describe_rule(r)} · {when}{ckpt}", r.id)
        if not runs:
            self.open_run(None)
            return
        k = self.run_combo.findData(select_run) if select_run is not None else -1
        self.run_combo.setCurrentIndex(max(k, 0))
        self.open_run(self.run_combo.currentData())

    def open_run(self, run_id: int | None) -> None:
        """Show a cleaning run (its dataset must be the one chosen); None shows nothing."""
        project = self.state.project
        self.thumbs.clear()
        if run_id is None or project is None:
            self.run = None
            self.model.set_rows([], {}, 0.0)
            self.histogram.set_scores(np.zeros(0), 0.0)
            self._update_summary()
            return
        self.run = store.get_cleaning_run(project, run_id)
        decisions = store.cleaning_decisions(project, run_id)
        from engine.projects.sampling import dataset_persons

        persons = {p.id: (Path(path), p) for path, p in dataset_persons(project, self.run.dataset_id)}
        self.rule = rule_threshold(self.run, decisions)
        self.model.set_rows(decisions, persons, self.rule)
        self.histogram.set_scores(self.model.scores, self.rule)
        self._sync_spin()
        self._update_summary()
        if decisions:
            self.table.selectRow(0)

    # --- threshold -------------------------------------------------------------------------

    @property
    def threshold(self) -> float:
        return self.model.threshold

    def set_threshold(self, value: float) -> None:
        """Move the threshold line as a drag would."""
        self.histogram.set_threshold(value, emit=True)

    def set_keep_fraction(self, fraction: float) -> None:
        """Keep the top ``fraction`` in [0, 1] (as the spin box does)."""
        self.keep_spin.setValue(100.0 * fraction)

    def _line_moved(self, value: float) -> None:
        self.model.set_threshold(value)
        self._sync_spin()
        self._update_summary()
        self.update_caption()

    def _fraction_set(self, percent: float) -> None:
        if not len(self.model.scores):
            return
        value = threshold_for_fraction(self.model.scores, percent / 100.0)
        self.histogram.set_threshold(value)
        self.model.set_threshold(value)
        self._update_summary()
        self.update_caption()

    def _sync_spin(self) -> None:
        n = len(self.model.scores)
        self.keep_spin.blockSignals(True)
        self.keep_spin.setValue(100.0 * float(self.model.proposed.sum()) / n if n else 0.0)
        self.keep_spin.blockSignals(False)

    def threshold_moved(self) -> bool:
        """Whether the calls at the threshold shown differ from the run's own."""
        auto = np.array([d.auto_keep for d in self.model.decisions], bool)
        return bool(len(auto)) and not np.array_equal(auto, self.model.proposed)

    def _update_summary(self) -> None:
        m = self.model
        enabled = self.run is not None and self.state.project is not None
        for w in (self.export_button, self.save_rule_button, self.keep_spin, *self.buttons.values()):
            w.setEnabled(enabled)
        self.clean_button.setEnabled(self.dataset is not None)
        if not enabled:
            self.summary.setText("")
            self.rule_label.setText("No cleaning run for this dataset yet: Clean with the scorer…"
                                    if self.dataset is not None else "No dataset.")
            return
        n, kept = len(m.decisions), int(m.keep.sum())
        overrides = sum(d.override is not None for d in m.decisions)
        self.summary.setText(f"keeping {kept} of {n} ({100 * kept / max(n, 1):.0f}%) · "
                             f"{n - kept} dropped · {overrides} override{'s' if overrides != 1 else ''}")
        moved = self.threshold_moved()
        self.save_rule_button.setEnabled(moved)
        self.rule_label.setText(
            f"Threshold {m.threshold:.3f}: the scorer keeps {int(m.proposed.sum())}. "
            f"Run #{self.run.id}'s rule: {describe_rule(self.run)}"
            + (" — moved, not saved (Export saves it as a new run)." if moved else "."))

    # --- overrides -------------------------------------------------------------------------

    def override_selected(self, keep: bool | None) -> int:
        """Override the selected rows (True keep, False drop, None the scorer's call) as one
        undoable gesture; returns how many changed."""
        return self.override_rows(self.selected_rows(), keep)

    def override_rows(self, rows: list[int], keep: bool | None) -> int:
        decisions = [self.model.decisions[r] for r in rows if 0 <= r < len(self.model.decisions)]
        changed = [d for d in decisions if d.override != keep]
        if not changed or self.state.project is None:
            return 0

        def step(decision_id: int):
            return lambda p, who: store.set_cleaning_override(p, decision_id, keep, who)

        try:
            self.history.do(*(step(d.id) for d in changed))
        except AdhmrError as exc:
            self.rule_label.setText(f"Not stored: {exc}")
        return len(changed)

    def _toggle_rows(self, rows: list[int]) -> None:
        for r in rows:
            self.override_rows([r], not bool(self.model.keep[r]))

    def _history_changed(self, kind: str, actions) -> None:
        if self.run is None or self.state.project is None:
            return
        touched = {a.row_id for a in actions if a.table_name == "cleaning_decisions"}
        if not touched:
            if kind != "do" and actions:
                self.rule_label.setText(f"{kind.capitalize()}: a pair decision (one history for the whole project).")
            return
        self.model.update_decisions(store.cleaning_decisions(self.state.project, self.run.id))
        self._update_summary()
        self.update_caption()
        if kind != "do":
            rows = [r for r, d in enumerate(self.model.decisions) if d.id in touched]
            if rows:
                self.select_rows(rows)
                self.table.scrollTo(self.model.index(rows[0], 0))

    # --- new runs, export, the clean job ---------------------------------------------------

    def save_threshold_as_run(self) -> int | None:
        """Store the calls at the threshold shown as a new run (overrides carried over)."""
        project, run = self.state.project, self.run
        if project is None or run is None:
            return None
        scores = {d.person_id: d.score for d in self.model.decisions}
        overrides = {d.person_id: d.override for d in self.model.decisions if d.override is not None}
        new_id = store.add_cleaning_run(project, run.dataset_id, scores, threshold=self.threshold,
                                        checkpoint_id=run.checkpoint_id)
        steps = [
            (lambda p, who, i=d.id, k=overrides[d.person_id]: store.set_cleaning_override(p, i, k, who))
            for d in store.cleaning_decisions(project, new_id) if d.person_id in overrides
        ]
        if steps:
            self.history.do(*steps)
        self._fill_runs(new_id)
        return new_id

    def export_cleaned(self, path: str | Path):
        """Write the kept samples to ``path`` (.json: COCO; .npz: the dataset's own npz
        format, SPIN for photos); a moved threshold is saved as a new run first."""
        from engine.projects import export_dataset

        if self.run is None or self.dataset is None:
            raise AdhmrError("no cleaning run to export")
        if self.threshold_moved():
            self.save_threshold_as_run()
        path = Path(path)
        fmt = "coco" if path.suffix.lower() == ".json" else (
            self.dataset.format if self.dataset.format in ("spin", "prohmr") else "spin")
        result = export_dataset(self.state.project, self.dataset.id, path, cleaning_run=self.run.id, format=fmt)
        self.last_export = result
        self.rule_label.setText(f"Exported {result.written} of {result.total} samples ({result.format}) to {path}")
        return result

    def export_dialog(self) -> None:
        if self.run is None or self.dataset is None:
            return
        default = str(self.state.project.path.parent / f"{self.dataset.name}-cleaned-run{self.run.id}.npz")
        path, _ = QFileDialog.getSaveFileName(self, "Export the cleaned dataset", default, EXPORT_FILTER)
        if path:
            try:
                self.export_cleaned(path)
            except AdhmrError as exc:
                self.rule_label.setText(f"Export failed: {exc}")

    def start_cleaning_job(self) -> None:
        """Open the job dialog on a 'clean' job of this dataset."""
        if self.window_ is None or self.dataset is None:
            return
        from app.dialogs.job_dialog import open_job_dialog

        open_job_dialog(self.window_, "clean", {"dataset": self.dataset.name})

    def _job_finished(self, _job_id: int, result) -> None:
        """A finished 'clean' job: show the run it made."""
        outputs = getattr(result, "outputs", None) or {}
        run_id = outputs.get("cleaning_run")
        if self.state.project is None or not getattr(result, "ok", False) or run_id is None:
            return
        run = store.get_cleaning_run(self.state.project, int(run_id))
        self.show_dataset(run.dataset_id, run.id)


def make_panel(state: AppState, window) -> CleaningPanel:
    return CleaningPanel(state, DecisionHistory.of(window), window)


PANEL = PanelSpec(name="cleaning", title="Cleaning", factory=make_panel, area="bottom", shortcut="Ctrl+Shift+L")
