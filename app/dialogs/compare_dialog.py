"""Before / after: the current person sampled with a base model and with its DPO fine-tune.

Both models sample the same M hypotheses (same seed, same steps) in a background task;
the scorer ranks each set. The dialog shows each model's pick (the scorer's best, or
hypothesis 0 without a scorer) side by side in 2D and 3D, and a table of scores and,
when the person has a 3D label, errors (every registered metric) of the pick and
over all hypotheses. Nothing is stored in the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.candidate_set import CandidateSet, Crop, error_names
from app.sampling import ModelCache, checkpoint_ref
from app.settings import Preferences
from app.widgets.ab_compare import ABCompare
from engine import store
from engine.errors import AdhmrError, CheckpointError
from engine.metric_registry import metrics
from engine.models.sample_settings import SampleSettings
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel



@dataclass(frozen=True, eq=False)
class Side:
    """One model's hypotheses of the person: params (M, D), scores (M,) or None, errors
    name -> (M,) mm or None, vertices (M, V, 3) and keypoints (M, 17, 3) metres."""

    label: str
    params: np.ndarray
    scores: np.ndarray | None
    errors: dict[str, np.ndarray] | None
    vertices: np.ndarray
    keypoints: np.ndarray

    @property
    def pick(self) -> int:
        """The scorer's best hypothesis, else hypothesis 0 (the zero-noise one)."""
        return int(np.argmax(self.scores)) if self.scores is not None else 0

    def candidate_set(self, box, decoder) -> CandidateSet:
        n = len(self.params)
        nan = np.full(n, np.nan)
        errors = {k: (self.errors or {}).get(k, nan) for k in error_names()}
        cset = CandidateSet(ids=np.full(n, -1), run_ids=np.full(n, -1), params=self.params.astype(np.float32),
                            scores=self.scores if self.scores is not None else nan, errors=errors,
                            crop=Crop.of_box(box), decoder=decoder)
        for i in range(n):
            cset.seed_meshes_at(i, self.vertices[i], self.keypoints[i])
        return cset


def dpo_checkpoints(
    project: store.Project, job: store.JobRecord
) -> tuple[store.CheckpointRecord, store.CheckpointRecord]:
    """(before, after) of a finished DPO job: the checkpoint it wrote and the one it was
    tuned from (its registered parent, else the job's ``checkpoint`` parameter)."""
    from engine.projects.checkpoints import resolve_checkpoint

    outputs = job.outputs or {}
    if outputs.get("checkpoint_id") is not None:
        after = store.get_checkpoint(project, int(outputs["checkpoint_id"]))
    elif outputs.get("checkpoint"):
        after = resolve_checkpoint(project, outputs["checkpoint"], ("dpo", "base"))
    else:
        raise CheckpointError(f"job {job.id} ({job.kind}) recorded no checkpoint to compare")
    if after.parent_id is not None:
        before = store.get_checkpoint(project, after.parent_id)
    else:
        before = resolve_checkpoint(project, job.params.get("checkpoint"), ("base", "dpo"))
    return before, after


def sample_both(project: store.Project, image_path: Path, person: store.PersonRecord, before_path: str,
                after_path: str, prefs: Preferences, models: ModelCache, settings: SampleSettings,
                progress: ProgressFn, should_cancel: CancelFn) -> tuple[Side, Side]:
    """Sample the person with both models (the same settings and seed), score and measure
    each set. settings: from the user's preferences (precision, consensus, steps)."""
    from engine.data.landmark_tokens import tokens_of
    from engine.models.pipeline import sample_image
    from engine.projects.checkpoints import resolve_checkpoint
    from engine.projects.sampling import label_errors

    body = models.body(prefs)
    scorer = None
    try:
        rec = resolve_checkpoint(project, checkpoint_ref(prefs.scorer_checkpoint), ("scorer",))
        scorer = models.scorer(prefs, rec.path)
    except CheckpointError:
        if prefs.scorer_checkpoint:
            raise
    sides = []
    for k, (label, path) in enumerate((("before", before_path), ("after", after_path))):
        progress(ProgressEvent(0.05 + 0.45 * k,
                               f"sampling {settings.num_candidates} hypotheses with the {label} model"))
        model = models.base(prefs, path)
        result = sample_image(image_path, model, settings, box=person.box, keypoints=person.keypoints, scorer=scorer,
                              body=body, landmarks=tokens_of(person))
        check_cancel(should_cancel)
        c = result.candidates
        sides.append(Side(label, c.params[0].numpy(), None if c.scores is None else c.scores[0].numpy(),
                          label_errors(person, c, model.layout, body), c.vertices[0].numpy(),
                          c.keypoints3d[0].numpy()))
    progress(ProgressEvent(1.0, "done"))
    return sides[0], sides[1]


def summary_rows(before: Side, after: Side) -> list[tuple[str, str, str]]:
    """(what, before, after) lines of the comparison table."""
    def fmt(value: float | None, unit: str = "") -> str:
        return "–" if value is None or not np.isfinite(value) else f"{value:.3f}" if not unit else f"{value:.1f}{unit}"

    rows = []
    if before.scores is not None and after.scores is not None:
        rows += [("score of the pick", fmt(before.scores.max()), fmt(after.scores.max())),
                 ("mean score", fmt(before.scores.mean()), fmt(after.scores.mean()))]
    if before.errors is not None and after.errors is not None:
        shown = [m for m in metrics() if m.name in before.errors and m.name in after.errors]
        for m in shown:
            rows.append((f"{m.title} of the pick", fmt(before.errors[m.name][before.pick], f" {m.unit}"),
                         fmt(after.errors[m.name][after.pick], f" {m.unit}")))
        for m in shown:
            rows.append((f"{m.title} best of M", fmt(before.errors[m.name].min(), f" {m.unit}"),
                         fmt(after.errors[m.name].min(), f" {m.unit}")))
        rows.append(("MPJPE mean of M", fmt(before.errors["mpjpe"].mean(), " mm"),
                     fmt(after.errors["mpjpe"].mean(), " mm")))
    return rows


class CompareDialog(QDialog):
    """The comparison; ``run()`` samples (in the window's task runner) and fills it."""

    def __init__(self, window, before: store.CheckpointRecord, after: store.CheckpointRecord) -> None:
        super().__init__(window)
        self.window_ = window
        self.before, self.after = before, after
        self.sides: tuple[Side, Side] | None = None
        self.setWindowTitle("Before / after DPO")
        self.compare = ABCompare(self)
        self.compare.set_titles(f"Before: #{before.id} {Path(before.path).stem}",
                                f"After: #{after.id} {Path(after.path).stem}")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["", "before", "after"])
        self.table.verticalHeader().setVisible(False)
        self.table.setMaximumHeight(230)
        self.m_spin = QSpinBox()
        self.m_spin.setRange(1, 500)
        self.m_spin.setValue(min(window.state.prefs.sample_count, 20))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.again = QPushButton("Sample")
        self.status = QLabel()
        controls = QHBoxLayout()
        controls.addWidget(QLabel("M"))
        controls.addWidget(self.m_spin)
        controls.addWidget(QLabel("seed"))
        controls.addWidget(self.seed_spin)
        controls.addWidget(self.again)
        controls.addWidget(self.status, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.compare, 1)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        buttons.rejected.connect(self.reject)
        self.again.clicked.connect(self.run)
        self.finished.connect(lambda _r: self.compare.close_plotter())
        self.resize(1100, 760)

    def run(self) -> bool:
        """Sample the current person with both models; False when it cannot start."""
        s = self.window_.state
        if s.project is None or s.person is None or s.image_path is None:
            self.status.setText("Open an image with a person first.")
            return False
        person, image_path = s.person, s.image_path
        self.status.setText("Sampling…")
        task = self.window_.tasks.start(
            "Before / after", sample_both, s.project, image_path, person, self.before.path, self.after.path,
            s.prefs, s.models, s.prefs.sample_settings(self.seed_spin.value(), self.m_spin.value()),
            on_done=lambda sides: self.show_sides(sides, s.image_rgb, person), on_error=self._failed)
        if task is None:
            self.status.setText("Another task is running: try again when it ends.")
        return task is not None

    def _failed(self, error: BaseException) -> None:
        self.status.setText(str(error) if isinstance(error, AdhmrError) else f"{type(error).__name__}: {error}")

    def show_sides(self, sides: tuple[Side, Side], image_rgb: np.ndarray | None, person: store.PersonRecord) -> None:
        self.sides = sides
        before, after = sides
        decoder = self.window_.state.decoder()
        a, b = before.candidate_set(person.box, decoder), after.candidate_set(person.box, decoder)
        self.compare.set_photo(image_rgb, None if image_rgb is not None else (640, 480), key=id(image_rgb))
        pick = "the scorer's pick" if before.scores is not None else "hypothesis 0"
        self.compare.show_pair(a, before.pick, b, after.pick, box=person.box,
                               info_a=self._info(before, pick), info_b=self._info(after, pick))
        rows = summary_rows(before, after)
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, text in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.status.setText(f"{len(before.params)} hypotheses each, seed {self.seed_spin.value()}; showing {pick}")

    @staticmethod
    def _info(side: Side, pick: str) -> str:
        parts = [pick]
        if side.scores is not None:
            parts.append(f"score {side.scores[side.pick]:.3f}")
        if side.errors is not None:
            parts.append(f"MPJPE {side.errors['mpjpe'][side.pick]:.0f} mm")
        return " · ".join(parts)


def open_compare_dialog(window, job: store.JobRecord, run: bool = True) -> CompareDialog:
    """Open the comparison for a finished DPO job and start sampling."""
    before, after = dpo_checkpoints(window.state.project, job)
    dialog = CompareDialog(window, before, after)
    dialog.open()
    if run:
        dialog.run()
    window.compare_dialog = dialog
    return dialog

