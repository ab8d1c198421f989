"""The unrolled view: for the first N steps, where each argument of the step comes from.

Rows are steps, columns are the step's arguments (their names in expressions), cells are
sources such as ``x[3]``, ``f's initial row 0`` or ``f[0] (from step 0)``; colours tell
sequence elements, initial values and earlier outputs apart, so taps and go_backwards
can be seen rather than explained.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from explorer.core.spec import ScanSpec, argument_labels, unroll

from .fields import mono_font

# what a cell reads -> background colour
COLOURS = {"sequence": "#e3efff", "initial": "#fff1d6", "earlier": "#e4f5e4", "value": "#f1f1f1"}
LEGEND = ("<span style='background:{sequence}'>&nbsp;sequence element&nbsp;</span>&nbsp; "
          "<span style='background:{initial}'>&nbsp;initial value&nbsp;</span>&nbsp; "
          "<span style='background:{earlier}'>&nbsp;output of an earlier step&nbsp;</span>&nbsp; "
          "<span style='background:{value}'>&nbsp;non-sequence&nbsp;</span>").format(**COLOURS)


def source_kind(source: str) -> str:
    if "initial" in source:
        return "initial"
    if "(from step" in source:
        return "earlier"
    if source.endswith("]"):
        return "sequence"
    return "value"


class UnrolledView(QWidget):
    """A small table of the first ``steps()`` steps' reads; blank with a reason when invalid."""

    steps_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._spec: ScanSpec | None = None
        self._lengths: dict[str, int] = {}
        self.title = title = QLabel()
        self.n = QSpinBox()
        self.n.setRange(1, 50)
        self.n.setValue(4)
        self.n.setPrefix("first ")
        self.n.setSuffix(" steps")
        self._fitting = False  # the step count follows the table's height until the user sets one
        self._user_n = False
        self.n.valueChanged.connect(self._n_changed)
        self.n.valueChanged.connect(self._redraw)
        self.n.valueChanged.connect(self.steps_changed)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.n)
        self.table = QTableWidget()
        self.table.setFont(mono_font())
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setMinimumSectionSize(40)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666;")
        self.legend = legend = QLabel(LEGEND)
        legend.setStyleSheet("color: #444;")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addLayout(head)
        box.addWidget(self.table, 1)
        box.addWidget(legend)
        box.addWidget(self.note)
        box.addStretch(0)

    def _n_changed(self, _value: int) -> None:
        if not self._fitting:
            self._user_n = True

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_rows()

    def _fit_rows(self) -> None:
        """As many steps as the table has room for (at least 4), unless the user chose."""
        if self._user_n or not self.isVisible() or not self.table.isVisibleTo(self):
            return
        row = self.table.verticalHeader().defaultSectionSize()
        room = self.table.height() - self.table.horizontalHeader().height() - 4
        fit = max(4, min(self.n.maximum(), room // max(row, 1)))
        if fit != self.n.value():
            self._fitting = True
            self.n.setValue(fit)
            self._fitting = False

    def steps(self) -> int:
        return self.n.value()

    def show_spec(self, spec: ScanSpec, lengths: dict[str, int], total: int | None = None) -> None:
        """Unroll ``spec``; ``total`` is the run's step count when known (said in the title)."""
        self._spec, self._lengths = spec, dict(lengths)
        count = ""
        if total is not None:
            count = f"{total:,} step{'s' if total != 1 else ''}"
            count = f" — {'at most ' + count if spec.until else count} in all"
        self.title.setText(f"<b>Unrolled</b>: what each step reads{count}")
        self.table.setVisible(True)
        self._fit_rows()
        self._redraw()

    def show_unavailable(self, reason: str) -> None:
        self._spec = None
        self.title.setText("<b>Unrolled</b>: what each step reads")
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.table.setVisible(False)
        self.legend.setVisible(False)
        self.note.setText(reason)

    def cell(self, step: int, name: str) -> str | None:
        """The source shown for argument ``name`` at ``step`` (for tests and tooltips)."""
        for col in range(self.table.columnCount()):
            if self.table.horizontalHeaderItem(col).text().split("\n")[0] == name:
                item = self.table.item(step, col)
                return item.text() if item else None
        return None

    def _redraw(self) -> None:
        spec = self._spec
        if spec is None:
            return
        rows = unroll(spec, self._lengths, self.n.value())
        labels = argument_labels(spec)
        self.table.setVisible(True)
        self.legend.setVisible(True)
        self.table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustIgnored)
        self.table.clear()
        self.table.setColumnCount(len(labels))
        self.table.setRowCount(len(rows))
        for col, (name, what) in enumerate(labels):
            head = QTableWidgetItem(name if name == what else f"{name}\n{what}")
            head.setToolTip(f"{name} in expressions is {what}")
            self.table.setHorizontalHeaderItem(col, head)
        for r, step in enumerate(rows):
            self.table.setVerticalHeaderItem(r, QTableWidgetItem(f"step {step.step}"))
            for col, (_, source) in enumerate(step.reads):
                item = QTableWidgetItem(source)
                item.setBackground(QBrush(QColor(COLOURS[source_kind(source)])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, col, item)
        if not labels:
            self.note.setText("The step receives no arguments: each step computes from constants only.")
        elif not rows:
            self.note.setText("The scan takes no steps (a sequence is too short, or steps is 0).")
        else:
            self.note.setText("")
