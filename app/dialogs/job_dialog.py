"""New Job: pick a kind (sample, pairs, DPO, cleaning, training, evaluation, synth ...), fill
its form (``app.panels.jobs_forms``), start it in the background.

``open_job_dialog(window, kind, preset)`` opens it without blocking; Start runs the job
through the window's ``JobRunner`` and shows the Jobs panel. Parameters the form has no
field for go in the JSON box (``{"lr": 1e-4}``), which wins over the form.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.dialogs.dpo_form import attach as attach_dpo_pairs
from app.panels.jobs_forms import KIND_HELP, KIND_TITLES, OMIT, Field, form_of, ordered_kinds
from engine import store
from engine.jobs import JobSpec

NONE_TEXT = "(none)"


def kind_summary(kind: str) -> str:
    """What a job kind does: its help line, else the first line of its module's docstring."""
    from engine.jobs import job_kind

    if kind in KIND_HELP:
        return KIND_HELP[kind]
    try:
        module = sys.modules.get(job_kind(kind).fn.__module__)
    except Exception:  # noqa: BLE001  (an unknown kind has no summary)
        return ""
    doc = (module.__doc__ or "").strip().replace("``", "") if module else ""
    return doc.splitlines()[0] if doc else ""


class JobDialog(QDialog):
    """The form of one job kind; ``spec()`` is what Start runs."""

    def __init__(self, project: store.Project | None, kinds: list[str], kind: str | None = None,
                 preset: dict[str, Any] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New job")
        self.project = project
        self.editors: dict[str, tuple[Field, QWidget]] = {}
        self.kind_combo = QComboBox()
        for k in ordered_kinds(kinds):
            self.kind_combo.addItem(f"{KIND_TITLES.get(k, k)}  ({k})", k)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.extra = QLineEdit()
        self.extra.setPlaceholderText('other parameters as JSON, e.g. {"lr": 1e-4}')
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.start_button = self.buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        layout = QVBoxLayout(self)
        top = QFormLayout()
        top.addRow("Job", self.kind_combo)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.form_host)
        layout.addWidget(QLabel("More parameters"))
        layout.addWidget(self.extra)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self._try_accept)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._build_form())
        if kind is not None and self.kind_combo.findData(kind) >= 0:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
        self._build_form()
        for name, value in (preset or {}).items():
            self.set_value(name, value)
        self.resize(480, self.sizeHint().height())

    @property
    def kind(self) -> str | None:
        return self.kind_combo.currentData()

    # --- the form --------------------------------------------------------------------------

    def _build_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        self.start_button.setEnabled(True)  # a kind's form may disable it (dpo without pairs)
        kind = self.kind
        if kind is None:
            self.summary.setText("No job kinds are registered.")
            return
        self.summary.setText(kind_summary(kind))
        fields = form_of(kind)
        if not fields:
            self.summary.setText(self.summary.text() + "\nThis job has no form: give its parameters as JSON below.")
        for f in fields:
            editor = self._editor(f)
            editor.setToolTip(f.tip)
            self.form.addRow(f.text, editor)
            self.editors[f.name] = (f, editor)
        self.dpo_pairs = attach_dpo_pairs(self)  # counts, batch size and Start of the dpo form

    def _editor(self, f: Field) -> QWidget:
        if f.kind == "int":
            box = QSpinBox()
            box.setRange(int(f.minimum if f.minimum is not None else -2**31), int(f.maximum or 2**31 - 1))
            box.setValue(int(f.default or 0))
            if f.optional:
                box.setSpecialValueText("all")
            return box
        if f.kind == "float":
            box = QDoubleSpinBox()
            box.setDecimals(f.decimals)
            box.setRange(f.minimum if f.minimum is not None else -1e9, f.maximum if f.maximum is not None else 1e9)
            box.setSingleStep(max(abs(float(f.default or 0)) / 10, 1e-6))
            box.setValue(float(f.default or 0.0))
            return box
        if f.kind == "bool":
            check = QCheckBox()
            check.setChecked(bool(f.default))
            return check
        if f.kind == "str":
            edit = QLineEdit(str(f.default or ""))
            return edit
        combo = QComboBox()
        if f.kind == "choice":
            if f.optional:
                combo.addItem(NONE_TEXT, None)
            for c in f.choices:
                combo.addItem(c, c)
        elif f.kind == "dataset":
            if f.optional:
                combo.addItem(NONE_TEXT, None)
            for ds in store.list_datasets(self.project) if self.project is not None else []:
                combo.addItem(ds.name, ds.name)
        elif f.kind == "checkpoint":
            combo.addItem("latest (the newest registered, else the bundled one)", "latest")
            combo.addItem("default (the bundled one)", "default")
            for rec in store.list_checkpoints(self.project) if self.project is not None else []:
                if rec.kind in f.checkpoint_kinds:
                    combo.addItem(f"#{rec.id} {rec.kind}: {Path(rec.path).name}", rec.id)
            if f.none is not None:
                combo.addItem(NONE_TEXT, "none")
        index = combo.findData(f.default)
        combo.setCurrentIndex(max(index, 0))
        return combo

    def set_value(self, name: str, value: Any) -> None:
        """Put a value in a field's editor (for presets); unknown names go to the JSON box."""
        if name not in self.editors:
            extra = json.loads(self.extra.text() or "{}")
            extra[name] = value
            self.extra.setText(json.dumps(extra))
            return
        f, editor = self.editors[name]
        if isinstance(editor, QSpinBox | QDoubleSpinBox):
            editor.setValue(value)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value))
        else:
            index = editor.findData(value)
            if index < 0 and f.kind == "dataset":
                editor.addItem(str(value), value)
                index = editor.count() - 1
            editor.setCurrentIndex(max(index, 0))

    def params(self) -> dict[str, Any]:
        """The parameters the form and the JSON box give. Raises ValueError for bad JSON."""
        out: dict[str, Any] = {}
        for name, (f, editor) in self.editors.items():
            if isinstance(editor, QSpinBox):
                value: Any = editor.value()
                if f.optional and value == editor.minimum():
                    continue
            elif isinstance(editor, QDoubleSpinBox):
                value = editor.value()
            elif isinstance(editor, QCheckBox):
                value = editor.isChecked()
            elif isinstance(editor, QLineEdit):
                value = editor.text().strip()
                if not value and f.optional:
                    continue
            else:
                value = editor.currentData()
                if value is None:
                    continue
                if f.kind == "checkpoint" and value == "none":
                    if f.none is OMIT:
                        continue
                    value = f.none
            out[name] = value
        text = self.extra.text().strip()
        if text:
            extra = json.loads(text)
            if not isinstance(extra, dict):
                raise ValueError("the extra parameters must be a JSON object, like {\"lr\": 1e-4}")
            out.update(extra)
        return out

    def spec(self) -> JobSpec:
        return JobSpec(self.kind, self.params())

    def _try_accept(self) -> None:
        from engine.errors import AdhmrError
        from engine.jobs import check_job_params

        try:
            spec = self.spec()
        except ValueError as exc:
            self.error.setText(f"More parameters: {exc}")
            return
        if self.kind is None:
            return
        try:
            check_job_params(spec.kind, spec.params)
        except AdhmrError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


def open_job_dialog(window, kind: str | None = None, preset: dict[str, Any] | None = None) -> JobDialog:
    """Open the New Job dialog on ``window`` (non-blocking); Start runs the job there."""
    from app.panels.jobs_runner import JobRunner
    from engine.errors import AdhmrError
    from engine.jobs import registered_kinds

    dialog = JobDialog(window.state.project, registered_kinds(), kind, preset, parent=window)

    def start() -> None:
        try:
            job_id = JobRunner.of(window).start(dialog.spec())
        except AdhmrError as exc:
            window.show_error(exc)
            return
        dock = getattr(window, "docks", {}).get("jobs")
        if dock is not None:
            dock.show()
            dock.raise_()
        window.show_message(f"Started job {job_id} ({dialog.kind})")

    dialog.accepted.connect(start)
    dialog.open()
    window.job_dialog = dialog
    return dialog
