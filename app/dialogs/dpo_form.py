"""The DPO job's form knows the project's pairs: how many of each kind there are (reviewed,
with the scorer's unreviewed proposals, hand-made), which ones the job will train on
(``pair_selection``, with its count in the choice), a batch size that fits them, and no
Start for a job that cannot run.

``attach(dialog)`` wires it into a New Job dialog showing the dpo form.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, Qt
from PyQt6.QtWidgets import QComboBox, QLabel, QSpinBox

from engine.jobs.kinds.dpo import PAIR_SELECTIONS, pair_counts

SELECTION_WORDS = {"reviewed": "reviewed", "reviewed+proposed": "reviewed + scorer-proposed",
                   "hand-made": "hand-made only"}


class DpoPairs(QObject):
    """Counts, selection, batch size and Start of one dialog's dpo form."""

    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.counts: dict[str, int] = {}
        self._cache: dict[object, dict[str, int]] = {}
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.selection: QComboBox = dialog.editors["pair_selection"][1]
        self.batch: QSpinBox = dialog.editors["batch_size"][1]
        self.dataset: QComboBox | None = dialog.editors.get("dataset", (None, None))[1]
        self.wanted_batch: int | None = None
        """The batch size asked for before it was lowered to fit the pairs (restored when they do)."""
        dialog.form.insertRow(dialog.form.getWidgetPosition(self.selection)[0] + 1, "", self.note)
        self._refresh(choose_default=True)
        self.selection.currentIndexChanged.connect(lambda _i: self._refresh())
        self.batch.valueChanged.connect(self._batch_set)
        if self.dataset is not None:
            self.dataset.currentIndexChanged.connect(lambda _i: self._refresh())

    def _batch_set(self, _value: int) -> None:
        self.wanted_batch = None  # the user's own choice from now on
        self._refresh()

    def _counts(self) -> dict[str, int]:
        key = None if self.dataset is None else self.dataset.currentData()
        if key not in self._cache:
            project = self.dialog.project
            self._cache[key] = pair_counts(project, key) if project is not None else dict.fromkeys(PAIR_SELECTIONS, 0)
        return self._cache[key]

    def _refresh(self, choose_default: bool = False) -> None:
        self.counts = counts = self._counts()
        self.selection.blockSignals(True)
        self.batch.blockSignals(True)
        try:
            for k in range(self.selection.count()):
                name = self.selection.itemData(k)
                if name in counts:
                    self.selection.setItemText(k, f"{SELECTION_WORDS[name]} ({counts[name]} pair{'' if counts[name] == 1 else 's'})")
                    self.selection.setItemData(k, PAIR_SELECTIONS[name], Qt.ItemDataRole.ToolTipRole)
            if choose_default:
                # What a person reviewed, when there is any: unreviewed proposals train only by choice.
                wanted = "reviewed" if counts["reviewed"] else "reviewed+proposed"
                self.selection.setCurrentIndex(max(self.selection.findData(wanted), 0))
            chosen = self.selection.currentData()
            n = counts.get(chosen, 0)
            lines = [f"The project has {counts['reviewed']} reviewed pairs ({counts['hand-made']} of them made "
                     f"by hand) and {counts['reviewed+proposed'] - counts['reviewed']} scorer proposals nobody "
                     "reviewed."]
            if n == 0:
                lines.append("<b>Nothing to train on with this choice</b>: decide pairs in the Pairs panel "
                             "(Ctrl+Shift+P), run a pairs job, or choose another set.")
            else:
                wanted = self.wanted_batch or self.batch.value()
                self.batch.setMaximum(n)
                self.batch.setValue(min(wanted, n))
                self.wanted_batch = wanted if wanted > n else None
                if self.wanted_batch is not None:
                    lines.append(f"Batch size lowered from {wanted} to {n}: a batch cannot hold more than the "
                                 f"{n} pairs chosen.")
            self.note.setText(" ".join(lines))
            self.dialog.start_button.setEnabled(n > 0)
            self.dialog.start_button.setToolTip("" if n > 0 else "No pairs to train on with this choice")
        finally:
            self.selection.blockSignals(False)
            self.batch.blockSignals(False)


def attach(dialog) -> DpoPairs | None:
    """The pairs helper of ``dialog`` when it shows the dpo form, else None."""
    if dialog.kind != "dpo" or "pair_selection" not in dialog.editors or "batch_size" not in dialog.editors:
        return None
    return DpoPairs(dialog)
