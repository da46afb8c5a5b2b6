"""Settings: device, body model, models (built in or plug-ins), default checkpoints,
candidate counts, sampler steps.

Edits a ``Preferences`` value; the main window stores the result with ``AppSettings``
(QSettings) so it holds across sessions.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PyQt6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.settings import Preferences
from engine.diffusion import DEFAULT_STEPS
from engine.models.sample_settings import FIT_START
from engine.plugins import sampler_names, scorer_names


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _model_combo(names: list[str], current: str) -> QComboBox:
    """The installed models' names; a saved name whose plug-in is gone stays, marked."""
    combo = QComboBox()
    for name in names:
        combo.addItem(name if name != names[0] else f"{name} (built in)", name)
    if current not in names:
        combo.addItem(f"{current} (not installed)", current)
        combo.model().item(combo.count() - 1).setEnabled(False)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    return combo


class CheckpointChooser(QWidget):
    """A combo of 'Default', the project's checkpoints of some kinds, and a file."""

    def __init__(self, value: str, choices: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.addItem("Default (project's newest, else bundled)", "")
        for label, data in choices:
            self.combo.addItem(label, data)
        self.browse = QPushButton("File…")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)
        self.set_value(value)

    def set_value(self, value: str) -> None:
        k = self.combo.findData(value)
        if k < 0:
            self.combo.addItem(value, value)
            k = self.combo.count() - 1
        self.combo.setCurrentIndex(k)

    def value(self) -> str:
        return str(self.combo.currentData() or "")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a checkpoint", "",
                                              "Checkpoints (*.safetensors *.pt *.json);;All files (*)")
        if path:
            self.set_value(path)


class SettingsDialog(QDialog):
    """Modal settings editor; ``preferences()`` gives the edited value after accept."""

    def __init__(self, prefs: Preferences, base_choices: list[tuple[str, str]] = (),
                 scorer_choices: list[tuple[str, str]] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self._prefs = prefs

        self.device = QComboBox()
        self.device.addItem("CPU", "cpu")
        self.device.addItem("CUDA GPU" if cuda_available() else "CUDA GPU (not available)", "cuda")
        if not cuda_available():
            self.device.model().item(1).setEnabled(False)
        self.device.setCurrentIndex(max(0, self.device.findData(prefs.device)))

        self.bundled_body = QRadioButton("Bundled open body")
        self.user_body = QRadioButton("SMPL-format file:")
        group = QButtonGroup(self)
        group.addButton(self.bundled_body)
        group.addButton(self.user_body)
        self.body_path = QLineEdit(prefs.body_model)
        self.body_path.setPlaceholderText("a .npz or converted .pkl SMPL model")
        browse_body = QPushButton("Browse…")
        (self.user_body if prefs.body_model else self.bundled_body).setChecked(True)
        body_row = QHBoxLayout()
        body_row.addWidget(self.user_body)
        body_row.addWidget(self.body_path, 1)
        body_row.addWidget(browse_body)
        body_box = QGroupBox("Body model")
        body_layout = QVBoxLayout(body_box)
        body_layout.addWidget(self.bundled_body)
        body_layout.addLayout(body_row)

        self.base = CheckpointChooser(prefs.base_checkpoint, list(base_choices))
        self.scorer = CheckpointChooser(prefs.scorer_checkpoint, list(scorer_choices))
        self.sampler_model = _model_combo(sampler_names(), prefs.sampler)
        self.sampler_model.setToolTip("The sampling model: the built-in diffusion model or an installed plug-in "
                                      "('adhmr.samplers' entry point)")
        self.scorer_model = _model_combo(scorer_names(), prefs.scorer_model)
        self.scorer_model.setToolTip("The scoring model: the built-in HMR-Scorer or an installed plug-in "
                                     "('adhmr.scorers' entry point)")
        ckpt_box = QGroupBox("Models and default checkpoints")
        ckpt_form = QFormLayout(ckpt_box)
        ckpt_form.addRow("Sampler", self.sampler_model)
        ckpt_form.addRow("Diffusion model", self.base)
        ckpt_form.addRow("Scorer model", self.scorer_model)
        ckpt_form.addRow("Scorer", self.scorer)

        self.display_count = QSpinBox()
        self.display_count.setRange(1, 200)
        self.display_count.setValue(prefs.display_count)
        self.display_count.setToolTip("How many of the best candidates the views show at first")
        self.sample_count = QSpinBox()
        self.sample_count.setRange(1, 1000)
        self.sample_count.setValue(prefs.sample_count)
        self.sample_count.setToolTip("Hypotheses per sampling run")
        self.steps = QSpinBox()
        self.steps.setRange(1, 1000)
        self.steps.setValue(prefs.sampler_steps)
        self.steps.setToolTip(f"DDIM network evaluations per hypothesis (default {DEFAULT_STEPS}, "
                              "chosen on validation; more spreads the candidates wider)")
        self.precision = QComboBox()
        self.precision.addItem("Automatic (bfloat16 where native)", "auto")
        self.precision.addItem("float32 (exact)", "fp32")
        self.precision.addItem("bfloat16 (faster)", "bf16")
        self.precision.setCurrentIndex(max(0, self.precision.findData(prefs.precision)))
        self.precision.setToolTip("Arithmetic of the sampler and scorer networks; bfloat16 is about twice as fast "
                                  "for scoring on CPUs with AVX-512 BF16 and moves bodies by ~1 mm")
        self.consensus = QCheckBox("Candidates that agree with the rest of their run score higher")
        self.consensus.setChecked(prefs.sample_consensus)
        self.consensus.setToolTip("The scorer's sample-consensus term: each candidate is compared with the other "
                                  "candidates of its sampling run (off: the scorer network alone, as in the paper)")
        self.guidance = QDoubleSpinBox()
        self.guidance.setRange(0.0, 100.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setValue(prefs.guidance_scale)
        self.guidance.setSpecialValueText("Off")
        self.guidance.setToolTip("Guided sampling: each DDIM step is pulled towards the detected 2D keypoints "
                                 "with this step size (0: off; see README, Guided sampling)")
        self.orient = QCheckBox("Turn candidates to face as the detector's 3D landmarks do")
        self.orient.setChecked(prefs.orient_candidates)
        self.orient.setToolTip("Each candidate is turned about its hips onto the pose detector's world landmarks and "
                               "its camera re-fitted; pose and shape stay as sampled (off: exactly as sampled)")
        self.fit_start = QDoubleSpinBox()
        self.fit_start.setRange(0.0, 1.0)
        self.fit_start.setSingleStep(0.05)
        self.fit_start.setDecimals(3)
        self.fit_start.setValue(prefs.fit_start)
        self.fit_start.setSpecialValueText("Off (from noise)")
        self.fit_start.setToolTip(f"The samples start from the person's body fit noised to this fraction of the "
                                  f"schedule, so they refine it (default {FIT_START:g}, chosen on real footage; "
                                  "costs a fit, about a second; 0: from pure noise; see README, Starting from the fit)")
        sampling_box = QGroupBox("Candidates")
        sampling_form = QFormLayout(sampling_box)
        sampling_form.addRow("Device", self.device)
        sampling_form.addRow("Shown in the views", self.display_count)
        sampling_form.addRow("Sampled per run", self.sample_count)
        sampling_form.addRow("Sampler steps", self.steps)
        sampling_form.addRow("Guidance", self.guidance)
        sampling_form.addRow("Orientation", self.orient)
        sampling_form.addRow("Start from the fit", self.fit_start)
        sampling_form.addRow("Precision", self.precision)
        sampling_form.addRow("Scoring", self.consensus)

        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #d04040")
        self.error_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(sampling_box)
        layout.addWidget(body_box)
        layout.addWidget(ckpt_box)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

        browse_body.clicked.connect(self._browse_body)
        self.body_path.textEdited.connect(lambda _t: self.user_body.setChecked(True))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

    def _browse_body(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an SMPL-format body model", "",
                                              "Body models (*.npz *.pkl);;All files (*)")
        if path:
            self.body_path.setText(path)
            self.user_body.setChecked(True)

    def preferences(self) -> Preferences:
        """The edited preferences (other fields as they were)."""
        return replace(
            self._prefs,
            device=str(self.device.currentData()),
            body_model=self.body_path.text().strip() if self.user_body.isChecked() else "",
            base_checkpoint=self.base.value(),
            scorer_checkpoint=self.scorer.value(),
            display_count=self.display_count.value(),
            sample_count=self.sample_count.value(),
            sampler_steps=self.steps.value(),
            precision=str(self.precision.currentData()),
            sample_consensus=self.consensus.isChecked(),
            guidance_scale=self.guidance.value(),
            orient_candidates=self.orient.isChecked(),
            fit_start=self.fit_start.value(),
            sampler=str(self.sampler_model.currentData()),
            scorer_model=str(self.scorer_model.currentData()),
        )

    def problem(self) -> str | None:
        """Why the current entries cannot be saved, or None."""
        p = self.preferences()
        if self.user_body.isChecked() and not p.body_model:
            return "Choose an SMPL-format body model file, or use the bundled open body."
        if p.body_model and not Path(p.body_model).is_file():
            return f"{p.body_model}: no such body model file"
        if p.sampler not in sampler_names() or p.scorer_model not in scorer_names():
            missing = p.sampler if p.sampler not in sampler_names() else p.scorer_model
            return f"The plug-in {missing!r} is not installed: choose another model."
        for label, value in (("Diffusion model", p.base_checkpoint), ("Scorer", p.scorer_checkpoint)):
            if value and not value.startswith("project:") and not Path(value).exists() \
                    and not Path(value).with_suffix(".safetensors").exists():
                return f"{label} checkpoint {value}: no such file"
        return None

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error_label.setText(problem)
            return
        super().accept()
