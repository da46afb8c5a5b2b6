"""The Jobs panel: every job of the project with its progress, log, metrics and outputs.

New job… opens the form of any kind (``app.dialogs.job_dialog``); jobs run in worker
threads (``app.panels.jobs_runner``), so the window stays responsive. The list shows
status and a progress bar per job, jobs started elsewhere (the ``adhmr`` command) too;
the selected job's metrics are plotted live from its progress events (from the store's
history, ``engine.jobs.job_metrics``, for jobs not running here), with its log and
parameters beside. Cancel stops a job at its next check; Resume runs a cancelled or
crashed one again from where it stopped (a failed one would fail the same way: it is
started anew, changed, from New Job). A finished DPO job offers a before/after
comparison on the current image (``app.dialogs.compare_dialog``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from PyQt6.QtCore import QModelIndex, QSize, Qt, QTimer
from PyQt6.QtGui import QStandardItem, QStandardItemModel
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTabWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.panels import PanelSpec
from app.panels.jobs_forms import CHANGES_CANDIDATES, CHANGES_DATA, CHANGES_PERSONS
from app.panels.jobs_runner import JobRunner
from app.state import AppState
from app.widgets.dock_visibility import DockVisibility
from app.widgets.live_plot import LivePlot
from engine import store
from engine.errors import AdhmrError
from engine.jobs import get_job, job_metrics, list_jobs

log = logging.getLogger(__name__)

COLUMNS = ("#", "Kind", "Status", "Progress", "Message", "Started", "Took")
ID, KIND, STATUS, PROGRESS, MESSAGE, STARTED, TOOK = range(len(COLUMNS))
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 1
LIVE = ("queued", "running", "cancel_requested")
RESUMABLE = ("cancelled", "crashed", "queued")
"""Statuses Resume carries on from. Not 'failed': the same settings would fail the same
way; such a job is started again, changed, from New Job (its settings are in the details)."""
POLL_MS = 1000
DOCK_HEIGHT_HINT = 216
"""Preferred height (px): a bottom dock as tall as the candidate table's."""


class ProgressDelegate(QStyledItemDelegate):
    """Draws a cell's fraction (FRACTION_ROLE) as a progress bar."""

    def paint(self, painter, option, index: QModelIndex) -> None:
        fraction = index.data(FRACTION_ROLE)
        if fraction is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(round(1000 * max(0.0, min(1.0, float(fraction)))))
        bar.text = f"{100 * float(fraction):.0f}%"
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Enabled
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


def _duration(rec: store.JobRecord) -> str:
    if rec.started_at is None:
        return ""
    end = rec.finished_at or datetime.now(UTC)
    seconds = max(0, int((end - rec.started_at).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"


class JobsPanel(QWidget):
    """Job list + details; ``runner`` runs the jobs started here."""

    def __init__(self, state: AppState, runner: JobRunner, window=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = runner
        self.window_ = window
        self.records: dict[int, store.JobRecord] = {}
        self._rows: dict[int, int] = {}
        self._shown_job: int | None = None
        self.visibility = DockVisibility(self)

        self.new_button = QPushButton("New job…")
        self.new_button.setToolTip("Sample, propose pairs, fine-tune with DPO, clean, train, evaluate, render…")
        self.cancel_button = QPushButton("Cancel")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Run a cancelled or crashed job again from where it stopped")
        self.compare_button = QPushButton("Before / after…")
        self.compare_button.setToolTip("Sample the current image with the DPO model and its base model, side by side")
        self.status_line = QLabel()
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        for b in (self.new_button, self.cancel_button, self.resume_button, self.compare_button):
            bar.addWidget(b)
        bar.addWidget(self.status_line, 1)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        for col, width in ((ID, 36), (KIND, 80), (STATUS, 100), (PROGRESS, 90), (STARTED, 110), (TOOK, 50)):
            self.table.setColumnWidth(col, width)

        self.plot = LivePlot()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plot, "Metrics")
        self.tabs.addTab(self.log_view, "Log")
        self.tabs.addTab(self.details, "Parameters && outputs")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([560, 840])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.timer.start()
        self.new_button.clicked.connect(lambda: self.new_job())
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.resume_button.clicked.connect(self.resume_selected)
        self.compare_button.clicked.connect(self.compare_selected)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_selected())
        runner.started.connect(lambda job_id: self.refresh(select=job_id))
        runner.progressed.connect(self._progressed)
        runner.finished.connect(self._finished)
        state.projectChanged.connect(self.refresh)
        self.visibility.changed.connect(lambda on: on and self.refresh())
        self.refresh()

    # --- list ------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        # Not the contents' wishes: the photo and 3D views keep most of the window.
        return QSize(900, DOCK_HEIGHT_HINT)

    def selected_job(self) -> int | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        return self.model.item(index.row(), ID).data(Qt.ItemDataRole.UserRole)

    def select_job(self, job_id: int) -> None:
        row = self._rows.get(job_id)
        if row is not None:
            self.table.selectRow(row)

    def refresh(self, select: int | None = None) -> None:
        """Re-read the project's jobs (newest first)."""
        project = self.state.project
        keep = select if select is not None else self.selected_job()
        records = list_jobs(project) if project is not None else []
        self.records = {r.id: r for r in records}
        if [self.model.item(r, ID).data(Qt.ItemDataRole.UserRole) for r in range(self.model.rowCount())] != \
                [r.id for r in records]:
            self.model.removeRows(0, self.model.rowCount())
            for rec in records:
                self.model.appendRow([QStandardItem() for _ in COLUMNS])
            self._rows = {rec.id: row for row, rec in enumerate(records)}
        for rec in records:
            self._fill_row(rec)
        if keep is not None and keep in self._rows:
            self.select_job(keep)
        elif records and self.selected_job() is None:
            self.select_job(records[0].id)
        self.show_selected(reload=False)

    def _fill_row(self, rec: store.JobRecord) -> None:
        row = self._rows[rec.id]
        status = rec.status + (" (here)" if self.runner.is_running(rec.id) else "")
        when = rec.started_at.astimezone().strftime("%m-%d %H:%M:%S") if rec.started_at else ""
        values = {ID: str(rec.id), KIND: rec.kind, STATUS: status, PROGRESS: "", MESSAGE: rec.error or rec.message,
                  STARTED: when, TOOK: _duration(rec)}
        for col, text in values.items():
            item = self.model.item(row, col)
            item.setText(text)
        self.model.item(row, ID).setData(rec.id, Qt.ItemDataRole.UserRole)
        self.model.item(row, PROGRESS).setData(rec.progress, FRACTION_ROLE)

    def _poll(self) -> None:
        if self.state.project is None or not self.visibility.on_screen:
            return
        if self.runner.running_ids() or any(r.status in LIVE for r in self.records.values()):
            self.refresh()

    def _progressed(self, job_id: int, event) -> None:
        row = self._rows.get(job_id)
        if row is not None:
            self.model.item(row, PROGRESS).setData(event.fraction, FRACTION_ROLE)
            if event.message:
                self.model.item(row, MESSAGE).setText(event.message)
        if job_id == self._shown_job:
            if event.metrics:
                self.plot.add_report({"fraction": event.fraction, **event.metrics})
            self.status_line.setText(f"job {job_id}: {100 * event.fraction:.0f}% {event.message}")

    def _finished(self, job_id: int, result) -> None:
        self.refresh()
        rec = self.records.get(job_id)
        if isinstance(result, BaseException):
            text = str(result) if isinstance(result, AdhmrError) else f"{type(result).__name__}: {result}"
            self.status_line.setText(f"job {job_id} failed: {text}")
        elif rec is not None:
            error = f": {rec.error}" if rec.error else ""
            self.status_line.setText(f"job {job_id} ({rec.kind}) {rec.status}{error}")
        if rec is not None and rec.kind in CHANGES_DATA and self.state.project is not None:
            self._reload_views(rec.kind)

    def _reload_views(self, kind: str) -> None:
        """Show what a finished job changed: image statuses, and the current image's
        persons or candidates when the job made new ones (the selection starts afresh)."""
        s = self.state
        s.refresh_images()
        if s.image is None:
            return
        if kind in CHANGES_PERSONS:
            s.reload_persons()
        elif kind in CHANGES_CANDIDATES:
            s.reload_candidates()

    # --- details ---------------------------------------------------------------------------

    def show_selected(self, reload: bool = True) -> None:
        job_id = self.selected_job()
        rec = self.records.get(job_id) if job_id is not None else None
        self.cancel_button.setEnabled(rec is not None and rec.status in LIVE)
        self.resume_button.setEnabled(
            rec is not None and rec.status in RESUMABLE and not self.runner.is_running(rec.id))
        self.compare_button.setEnabled(rec is not None and rec.kind == "dpo" and rec.status == "done")
        if rec is None:
            self._shown_job = None
            self.plot.clear_reports()
            self.log_view.setPlainText("")
            self.details.setPlainText("")
            return
        if job_id != self._shown_job or reload:
            self._shown_job = job_id
            history = job_metrics(self.state.project, job_id)
            if self.runner.is_running(job_id):
                # The store has the reports up to its last write; this attempt's are all in memory.
                history = self.runner.base_metrics(job_id) + [
                    {"fraction": e.fraction, **e.metrics} for e in self.runner.events(job_id) if e.metrics]
            self.plot.set_reports(history)
        if self.log_view.toPlainText() != rec.log:
            bottom = self.log_view.verticalScrollBar()
            at_end = bottom.value() == bottom.maximum()
            self.log_view.setPlainText(rec.log)
            if at_end:
                bottom.setValue(bottom.maximum())
        details = {"kind": rec.kind, "status": rec.status, "attempts": rec.attempts, "params": rec.params,
                   "outputs": rec.outputs, "error": rec.error}
        self.details.setPlainText(json.dumps(details, indent=2, default=str))

    # --- actions ---------------------------------------------------------------------------

    def new_job(self, kind: str | None = None, preset: dict | None = None):
        """Open the New Job dialog (on the window when there is one)."""
        from app.dialogs.job_dialog import open_job_dialog

        if self.window_ is None or self.state.project is None:
            return None
        return open_job_dialog(self.window_, kind, preset)

    def cancel_selected(self) -> None:
        job_id = self.selected_job()
        if job_id is not None:
            status = self.runner.cancel(job_id)
            self.status_line.setText(f"job {job_id}: cancelling…" if status else "")
            self.refresh()

    def resume_selected(self) -> None:
        job_id = self.selected_job()
        if job_id is None:
            return
        try:
            self.runner.resume(job_id)
        except AdhmrError as exc:
            self.status_line.setText(str(exc))
        self.refresh()

    def compare_selected(self):
        """Open the before/after comparison of the selected (finished DPO) job."""
        job_id = self.selected_job()
        if job_id is None or self.window_ is None:
            return None
        from app.dialogs.compare_dialog import open_compare_dialog

        try:
            return open_compare_dialog(self.window_, get_job(self.state.project, job_id))
        except AdhmrError as exc:
            self.status_line.setText(str(exc))
            return None


def make_panel(state: AppState, window) -> JobsPanel:
    return JobsPanel(state, JobRunner.of(window), window)


PANEL = PanelSpec(name="jobs", title="Jobs", factory=make_panel, area="bottom", shortcut="Ctrl+Shift+J")
