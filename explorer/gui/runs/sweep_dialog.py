"""Define a sweep: up to three fields of the forms with their values, or explicit points,
or a sweep file / gallery preset; sampler, objective, pruning, workers.

The dialog only writes the definition's dict; :class:`~explorer.core.sweeps.SweepDefinition`
parses and validates it (the one place the rules live, the limits read from the config
metadata), and every problem is shown naming its field before Launch is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from explorer.core.errors import ConfigError, ExplorerError
from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import list_presets, load_preset
from explorer.core.sweeps import OBJECTIVES, SAMPLERS, SweepDefinition, load_definition
from explorer.core.sweeps.definition import MAX_FIELDS

KINDS = (("values", "a list of values"), ("linear", "lo, hi, n"), ("log", "lo, hi, n"), ("halve", "from, down to"))
SKIP = {("train", "device"), ("train", "threads")}  # not worth sweeping from here
NONE = ""  # a field row left empty


def sweepable_fields() -> list[tuple[str, str]]:
    """(dotted path, "Section › Label") of every field a sweep can vary, from the metadata."""
    titles = {"task": "Task", "model": "Model", "train": "Training"}
    out = []
    for section, cls in ExperimentConfig.SECTIONS.items():
        for f in dataclasses.fields(cls):
            if (section, f.name) not in SKIP:
                out.append((f"{section}.{f.name}", f"{titles[section]} › {f.metadata.get('label', f.name)}"))
    return out


def limits_text(path: str) -> str:
    """The field's limits as the metadata says them ("1 to 8192", "vanilla, relu, gru, lstm")."""
    section, _, name = path.partition(".")
    meta = next(f.metadata for f in dataclasses.fields(ExperimentConfig.SECTIONS[section]) if f.name == name)
    if "choices" in meta:
        return ", ".join(map(str, meta["choices"]))
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    return ""


def parse_value(text: str):
    """``"1e-3"`` -> 0.001, ``"16"`` -> 16, ``"true"`` -> True, anything else stays text."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def split_values(text: str) -> list:
    return [parse_value(t) for t in re.split(r"[,\s;]+", text.strip()) if t]


class FieldRow:
    """One swept field: which, how its values are given, the values, and its limits."""

    def __init__(self, grid: QGridLayout, row: int, fields: list[tuple[str, str]]):
        self.field = QComboBox()
        self.field.addItem("(none)", NONE)
        for path, label in fields:
            self.field.addItem(label, path)
        self.kind = QComboBox()
        for kind, _hint in KINDS:
            self.kind.addItem(kind, kind)
        self.values = QLineEdit()
        self.limits = QLabel("")
        self.limits.setStyleSheet("color: #606060; font-size: 11px;")
        for col, w in enumerate((self.field, self.kind, self.values, self.limits)):
            grid.addWidget(w, row, col)
        self.field.currentIndexChanged.connect(self._hint)
        self.kind.currentIndexChanged.connect(self._hint)
        self._hint()

    @property
    def path(self) -> str:
        return self.field.currentData()

    def _hint(self) -> None:
        self.values.setPlaceholderText(dict(KINDS)[self.kind.currentData()])
        self.limits.setText(f"limits: {limits_text(self.path)}" if self.path else "")

    def spec(self):
        """The value spec of the definition: a list or {"linear" | "log" | "halve": [...]}."""
        kind, values = self.kind.currentData(), split_values(self.values.text())
        return values if kind == "values" else {kind: values}

    def set(self, path: str, spec) -> None:
        self.field.setCurrentIndex(max(self.field.findData(path), 0))
        if isinstance(spec, dict) and len(spec) == 1:
            kind, values = next(iter(spec.items()))
        else:
            kind, values = "values", spec
        self.kind.setCurrentIndex(max(self.kind.findData(kind), 0))
        self.values.setText(", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values))


class SweepDialog(QDialog):
    launched = Signal(object, int)  # (SweepDefinition, workers)

    def __init__(self, base: ExperimentConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Define a sweep")
        self.resize(980, 560)
        self.base, self.base_name = base, ""
        self.definition: SweepDefinition | None = None
        self.problems: list = []

        # the gallery of sweep presets, with their two lines
        self.gallery = QListWidget()
        self.gallery.setWordWrap(True)
        self.gallery.setSpacing(3)
        self.gallery.setAlternatingRowColors(True)
        for name in list_presets("sweep"):
            data = load_preset("sweep", name)
            look = data.get("look_for", [])
            look = look if isinstance(look, list) else [look]
            item = QListWidgetItem(f"{data.get('title') or name}\n" + "\n".join(f"  {line}" for line in look[:2]))
            item.setData(256, name)
            item.setToolTip(data.get("description", ""))
            self.gallery.addItem(item)
        self.open_file = QPushButton("Open a sweep file (JSON / TOML)…")
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("<b>Gallery</b>: the sources' questions"))
        column.addWidget(self.gallery, 1)
        column.addWidget(self.open_file)

        # the definition
        self.name = QLineEdit(time.strftime("sweep-%Y%m%d-%H%M%S"))
        self.base_label = QLabel("")
        self.base_label.setWordWrap(True)
        fields_box = QGroupBox(f"Fields (up to {MAX_FIELDS}; a grid runs every combination)")
        grid = QGridLayout(fields_box)
        options = sweepable_fields()
        self.rows = [FieldRow(grid, i, options) for i in range(MAX_FIELDS)]
        self.use_points = QCheckBox("Explicit points instead (one per line: train.num_steps=1, model.hidden_size=4)")
        self.points = QPlainTextEdit()
        self.points.setPlaceholderText("train.num_steps=1, model.hidden_size=4, train.epochs=2\n"
                                       "train.num_steps=5, model.hidden_size=4, train.epochs=1")
        self.points.setMaximumHeight(90)
        self.sampler = QComboBox()
        self.sampler.addItems(list(SAMPLERS))
        self.n_trials = QSpinBox(minimum=1, maximum=100_000, value=20)
        self.objective = QComboBox()
        self.objective.addItems(list(OBJECTIVES))
        self.pruning = QCheckBox("median pruner on the held-out loss at evaluation steps")
        self.workers = QSpinBox(minimum=1, maximum=256, value=os.cpu_count() or 1)
        self.workers.setToolTip("worker processes on this machine (default: one per core, one torch thread each)")
        self.steps = QSpinBox(minimum=0, maximum=10**9, value=0)
        self.steps.setSpecialValueText("the base's")
        self.steps.setToolTip("train.steps in every trial (0: the base experiment's)")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Base", self.base_label)
        form.addRow("Sampler", self.sampler)
        form.addRow("Trials (random / TPE)", self.n_trials)
        form.addRow("Objective (minimised)", self.objective)
        form.addRow("Pruning", self.pruning)
        form.addRow("Workers", self.workers)
        form.addRow("Steps per trial", self.steps)
        self.errors = QLabel("")
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #c02020;")
        self.summary = QLabel("")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.launch_button = self.buttons.addButton("Launch", QDialogButtonBox.ButtonRole.AcceptRole)
        right = QWidget()
        body = QVBoxLayout(right)
        body.addLayout(form)
        body.addWidget(fields_box)
        body.addWidget(self.use_points)
        body.addWidget(self.points)
        body.addWidget(self.summary)
        body.addWidget(self.errors)
        body.addStretch(1)
        body.addWidget(self.buttons)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([330, 650])
        QHBoxLayout(self).addWidget(split)

        for row in self.rows:
            row.field.currentIndexChanged.connect(self.check)
            row.kind.currentIndexChanged.connect(self.check)
            row.values.textChanged.connect(self.check)
        for w in (self.sampler, self.objective):
            w.currentIndexChanged.connect(self.check)
        for w in (self.n_trials, self.workers, self.steps):
            w.valueChanged.connect(self.check)
        self.name.textChanged.connect(self.check)
        self.pruning.toggled.connect(self.check)
        self.use_points.toggled.connect(self.check)
        self.points.textChanged.connect(self.check)
        self.gallery.itemClicked.connect(lambda item: self.load(item.data(256)))
        self.open_file.clicked.connect(self._open_file)
        self.launch_button.clicked.connect(self.launch)
        self.buttons.rejected.connect(self.reject)
        self._show_base()
        self.check()

    # -- the definition --------------------------------------------------------------------------------
    def data(self) -> dict:
        """The definition as the core reads it."""
        out = {"name": self.name.text().strip(), "base": self.base.to_dict(), "sampler": self.sampler.currentText(),
               "objective": self.objective.currentText(), "pruning": self.pruning.isChecked(),
               "workers": self.workers.value()}
        if self.base_name:
            out["base_name"] = self.base_name
        if self.sampler.currentText() != "grid":
            out["n_trials"] = self.n_trials.value()
        if self.steps.value():
            out["steps"] = self.steps.value()
        if self.use_points.isChecked():
            out["points"] = [self._point(line) for line in self.points.toPlainText().splitlines() if line.strip()]
        else:
            out["fields"] = {row.path: row.spec() for row in self.rows if row.path}
        return out

    @staticmethod
    def _point(line: str) -> dict:
        point = {}
        for part in re.split(r"[,;]\s*", line.strip()):
            key, _, value = part.partition("=")
            if key.strip():
                point[key.strip()] = parse_value(value)
        return point

    def check(self) -> bool:
        """Parse and validate; the problems are shown, each naming its field, and Launch is
        allowed only without any."""
        if not self.use_points.isChecked() and not any(row.path for row in self.rows):
            self.definition, self.problems = None, []
            self.errors.setText("")
            self.summary.setText("Choose a field to sweep (up to three), tick explicit points, or pick a sweep "
                                 "from the gallery.")
            self.launch_button.setEnabled(False)
            return False
        try:
            self.definition = SweepDefinition.from_dict(self.data())
            self.problems = []
        except ConfigError as exc:
            self.definition, self.problems = None, list(exc.problems)
        except ExplorerError as exc:
            self.definition, self.problems = None, [str(exc)]
        self.errors.setText("\n".join(str(p) for p in self.problems[:8]))
        self.launch_button.setEnabled(self.definition is not None)
        if self.definition is not None:
            d = self.definition
            self.summary.setText(f"{d.total} trial{'s' if d.total != 1 else ''} over "
                                 f"{', '.join(d.param_names)} with {self.workers.value()} worker process"
                                 f"{'es' if self.workers.value() != 1 else ''}")
        else:
            self.summary.setText("")
        return self.definition is not None

    def load(self, name_or_file: str) -> bool:
        """A gallery preset or a sweep file into the dialog (its base experiment too)."""
        try:
            d = load_definition(name_or_file)
        except ExplorerError as exc:
            self.errors.setText(f"cannot open {name_or_file}: {exc}")
            return False
        self.base, self.base_name = d.base, d.base_name or name_or_file
        self.name.setText(d.name)
        self.sampler.setCurrentText(d.sampler)
        self.objective.setCurrentText(d.objective)
        self.pruning.setChecked(d.pruning)
        if d.n_trials:
            self.n_trials.setValue(d.n_trials)
        self.steps.setValue(d.steps or 0)
        changes = {k: v for k, v in d.changes.items()}
        if changes:  # fixed edits: part of the base here
            from explorer.core.sweeps.space import apply

            self.base = apply(self.base, changes)
        self.use_points.setChecked(bool(d.points))
        self.points.setPlainText("\n".join(", ".join(f"{k}={v}" for k, v in p.items()) for p in d.points))
        specs = list(d.to_dict().get("fields", {}).items())
        for i, row in enumerate(self.rows):
            if i < len(specs):
                row.set(*specs[i])
            else:
                row.field.setCurrentIndex(0)
                row.values.clear()
        self._show_base()
        return self.check()

    def _show_base(self) -> None:
        title = self.base.title or "experiment"
        where = f"the preset {self.base_name}" if self.base_name else "the forms"
        self.base_label.setText(f"{title} (from {where}): {self.base.task.name} task, {self.base.model.cell} cell "
                                f"{self.base.model.hidden_size}, {self.base.train.steps:,} steps")

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a sweep", "", "Sweep (*.json *.toml)")
        if path:
            self.load(path)

    def launch(self) -> None:
        if self.check():
            self.launched.emit(self.definition, self.workers.value())
            self.accept()
