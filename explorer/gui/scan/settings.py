"""The spec's single fields: what the example is (title, source, description) and how the
loop runs (number of steps, direction, stop condition, result, seed, dtype)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QSpinBox, QWidget)

from explorer.core.spec import ScanSpec
from explorer.core.spec.validate import DTYPES

from .fields import ExpressionEdit

AUTO = -1  # n_steps spin box value meaning "as many as the sequences allow"


class AboutBox(QWidget):
    """Title, source and description: shown in the gallery and saved with the spec."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLineEdit()
        self.title.setPlaceholderText("untitled scan")
        self.title.setStyleSheet("font-weight: bold;")
        self.source = QLineEdit()
        self.source.setPlaceholderText("where it comes from (optional)")
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("what this example shows (optional)")
        self.description.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.edited_note = QLabel()  # "edited from <preset>": shown once the program changed
        self.edited_note.setStyleSheet("color: #8a5a00;")
        self.edited_note.hide()
        top = QHBoxLayout()
        top.addWidget(self.title, 3)
        top.addWidget(self.source, 2)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(top)
        form.addRow(self.description)
        form.addRow(self.edited_note)
        for w in (self.title, self.source):
            w.textChanged.connect(self._edit)
        self.description.textChanged.connect(self._edit)

    def _edit(self, *_) -> None:
        self.edited.emit()

    def write(self, spec: ScanSpec) -> None:
        self.title.setText(spec.title)
        self.source.setText(spec.source)
        self.title.setCursorPosition(0)
        self.source.setCursorPosition(0)
        self.description.setPlainText(spec.description)

    def set_edited_from(self, title: str | None) -> None:
        """Say the program is the user's own now, edited from ``title`` (None: it is not)."""
        self.edited_note.setText(f"✎ edited from “{title}”: not compared with the source's numbers"
                                 if title else "")
        self.edited_note.setVisible(bool(title))

    def read(self) -> dict:
        return dict(title=self.title.text(), source=self.source.text(),
                    description=self.description.toPlainText())


class LoopBox(QWidget):
    """n_steps, go_backwards, until, result, seed and dtype."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.n_steps = QSpinBox()
        self.n_steps.setRange(AUTO, 1_000_000)
        self.n_steps.setSpecialValueText("auto (shortest sequence)")
        self.n_steps.setGroupSeparatorShown(True)
        self.n_steps.setToolTip("how many steps; with sequences it only caps them ('auto': as many as "
                                "the shortest sequence allows); with none it is required")
        self.go_backwards = QCheckBox("go backwards (walk the sequences from their end)")
        self.go_backwards.setToolTip("Theano's go_backwards=True: step 0 reads the last elements; "
                                     "outputs stay in the order they were computed")
        self.until = ExpressionEdit("e.g. v > 100   (empty: never stop early)",
                                    "stop after the step where this holds; it may read the outputs' new "
                                    "values under their plain names. That step's outputs are kept.")
        self.result = ExpressionEdit("empty: the first output",
                                     "what the source prints, computed from the stacked outputs, e.g. "
                                     "total[-1] or sum(component)")
        self.seed = QSpinBox()
        self.seed.setRange(-(2 ** 31), 2 ** 31 - 1)
        self.seed.setToolTip("seeds every random draw (data and steps): the same seed gives the same run")
        self.dtype = QComboBox()
        self.dtype.addItems(list(DTYPES))
        self.dtype.setToolTip("float type of data and states")
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed)
        seed_row.addWidget(QLabel("dtype"))
        seed_row.addWidget(self.dtype)
        seed_row.addStretch(1)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("steps", self.n_steps)
        form.addRow("", self.go_backwards)
        form.addRow("stop when", self.until)
        form.addRow("result", self.result)
        form.addRow("seed", seed_row)
        for w in (self.n_steps, self.seed):
            w.setProperty("plainTip", w.toolTip())
            w.valueChanged.connect(self._edit)
        self.go_backwards.toggled.connect(self._edit)
        self.until.textChanged.connect(self._edit)
        self.result.textChanged.connect(self._edit)
        self.dtype.currentTextChanged.connect(self._edit)

    def _edit(self, *_) -> None:
        self.edited.emit()

    def write(self, spec: ScanSpec) -> None:
        self.n_steps.setValue(AUTO if spec.n_steps is None else spec.n_steps)
        self.go_backwards.setChecked(spec.go_backwards)
        self.until.setText(spec.until or "")
        self.result.setText(spec.result or "")
        self.seed.setValue(spec.seed)
        if self.dtype.findText(spec.dtype) < 0:  # unknown dtype from a file: keep it, check() says why
            self.dtype.addItem(spec.dtype)
        self.dtype.setCurrentText(spec.dtype)

    def read(self) -> dict:
        n = self.n_steps.value()
        return dict(n_steps=None if n == AUTO else n, go_backwards=self.go_backwards.isChecked(),
                    until=_text_or_none(self.until.text()), result=_text_or_none(self.result.text()),
                    seed=self.seed.value(), dtype=self.dtype.currentText())

    def field_widget(self, name: str) -> QWidget | None:
        return {"n_steps": self.n_steps, "go_backwards": self.go_backwards, "until": self.until,
                "result": self.result, "seed": self.seed, "dtype": self.dtype}.get(name)


def _text_or_none(text: str) -> str | None:
    return text if text.strip() else None
