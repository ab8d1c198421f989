"""Editable rows of the scan form: one row widget set per sequence / output / value.

A row kind says which columns it has and how its widgets map to its spec dataclass
(:class:`SequenceRow` <-> ``SequenceSpec`` and so on). :class:`RowList` lays the rows
out in a grid under their column headers, with move up / down and remove buttons.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSizePolicy,
                               QToolButton, QVBoxLayout, QWidget)

from explorer.core.errors import FieldProblem
from explorer.core.spec import NonSequenceSpec, OutputSpec, SequenceSpec, StepVariable

from .fields import ExpressionEdit, TapsEdit, mono_font


class _Row:
    """Widgets of one item; subclasses list columns as (field, header, stretch, tip)."""

    KIND: type
    COLUMNS: list[tuple[str, str, int, str]]
    NAMES: tuple[str, ...]  # default names for new rows, first free one wins

    def __init__(self, on_edit: Callable[[], None]):
        self.fields: dict[str, QWidget] = {}
        self._on_edit = on_edit

    def _name(self) -> QLineEdit:
        edit = QLineEdit()
        edit.setFont(mono_font())
        edit.setMaximumWidth(110)
        edit.setMinimumWidth(50)
        edit.setToolTip("its name in expressions")
        edit.setProperty("plainTip", edit.toolTip())
        edit.textChanged.connect(self._on_edit)
        return edit

    def _expr(self, placeholder: str, tip: str) -> ExpressionEdit:
        edit = ExpressionEdit(placeholder, tip)
        edit.textChanged.connect(self._on_edit)
        return edit

    def _taps(self, tip: str) -> TapsEdit:
        edit = TapsEdit(tip)
        edit.textChanged.connect(self._on_edit)
        return edit

    def _check(self, text: str, tip: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setToolTip(tip)
        box.setProperty("plainTip", tip)
        box.toggled.connect(self._on_edit)
        return box

    def widgets(self) -> list[QWidget]:
        return [self.fields[f] for f, *_ in self.COLUMNS]

    def extra(self) -> QWidget | None:
        """A second line under the row (spanning all but the name column), or None."""
        return None

    def read(self) -> tuple[object, list[tuple[str, str]]]:
        """(the spec item, [(field, problem)] for text the form itself cannot read)."""
        raise NotImplementedError

    def write(self, item) -> None:
        raise NotImplementedError


class SequenceRow(_Row):
    KIND = SequenceSpec
    NAMES = ("x", "u", "v", "s", "seq")
    COLUMNS = [
        ("name", "name", 0, "its name in expressions; taps add _tm1, _tp1 (x_tm1 is x[t-1])"),
        ("data", "data", 4, "the array walked along its first axis: a literal [1, 2, 3] or a seeded "
                            "generator such as arange(5) or randn(10, 2)"),
        ("taps", "taps", 0, "which elements step t sees, as delays: 0 = x[t] (x), -1 = x[t-1] (x_tm1), "
                            "1 = x[t+1] (x_tp1); e.g. -1, 0"),
        ("reversed", "", 0, "walk data[::-1] (Theano's P[::-1])"),
    ]

    def __init__(self, on_edit):
        super().__init__(on_edit)
        tips = {f: tip for f, _, _, tip in self.COLUMNS}
        self.fields = {"name": self._name(), "data": self._expr("arange(5)", tips["data"]),
                       "taps": self._taps(tips["taps"]), "reversed": self._check("reversed", tips["reversed"])}
        self.fields["taps"].setPlaceholderText("0")

    def read(self):
        taps, why = self.fields["taps"].taps()
        item = SequenceSpec(self.fields["name"].text().strip(), self.fields["data"].text(),
                            taps or (0,), self.fields["reversed"].isChecked())
        return item, [("taps", why)] if why else []

    def write(self, item: SequenceSpec) -> None:
        self.fields["name"].setText(item.name)
        self.fields["data"].setText(item.data)
        self.fields["taps"].set_taps(item.taps)
        self.fields["reversed"].setChecked(item.reversed)


class OutputRow(_Row):
    KIND = OutputSpec
    NAMES = ("y", "h", "z", "out", "acc")
    COLUMNS = [
        ("name", "name", 0, "its name in expressions; past values are y_tm1, y_tm2 (plain y = y_tm1)"),
        ("expression", "expression: its new value at step t", 4,
         "computes the output at each step from sequences, fed-back outputs, non-sequences and step variables"),
    ]
    TIPS = {
        "fed_back": "checked: the step receives its past values (taps), starting from the initial value. "
                    "Unchecked: not fed back (Theano's outputs_info=None)",
        "initial": "the value before step 0; with taps -2, -1 give 2 rows, the last row being t-1",
        "taps": "past values step t sees: -1 = y[t-1] (y_tm1, or plain y), -2 = y[t-2] (y_tm2)",
    }

    def __init__(self, on_edit):
        super().__init__(on_edit)
        self.fields = {"name": self._name(), "expression": self._expr("y + x", self.COLUMNS[1][3]),
                       "fed_back": self._check("fed back:", self.TIPS["fed_back"]),
                       "initial": self._expr("0.0", self.TIPS["initial"]), "taps": self._taps(self.TIPS["taps"])}
        self.fields["fed_back"].toggled.connect(self._enable)
        self.line2 = QWidget()  # under the expression: fed back, initial, taps
        line = QHBoxLayout(self.line2)
        line.setContentsMargins(0, 0, 0, 4)
        self._labels = [QLabel("initial"), QLabel("taps")]
        for label in self._labels:
            label.setStyleSheet("color: #555;")
        line.addWidget(self.fields["fed_back"])
        line.addWidget(self._labels[0])
        line.addWidget(self.fields["initial"], 3)
        line.addWidget(self._labels[1])
        line.addWidget(self.fields["taps"], 1)

    def extra(self) -> QWidget | None:
        return self.line2

    def _enable(self, on: bool) -> None:
        for w in [self.fields["initial"], self.fields["taps"], *self._labels]:
            w.setEnabled(on)

    def read(self):
        if not self.fields["fed_back"].isChecked():  # not fed back: no initial, default taps
            return OutputSpec(self.fields["name"].text().strip(), self.fields["expression"].text()), []
        taps, why = self.fields["taps"].taps()
        item = OutputSpec(self.fields["name"].text().strip(), self.fields["expression"].text(),
                          self.fields["initial"].text(), taps or (-1,))
        return item, [("taps", why)] if why else []

    def write(self, item: OutputSpec) -> None:
        self.fields["name"].setText(item.name)
        self.fields["expression"].setText(item.expression)
        self.fields["fed_back"].setChecked(item.initial is not None)
        self._enable(item.initial is not None)
        self.fields["initial"].setText(item.initial if item.initial is not None else "")
        self.fields["taps"].set_taps(item.taps)


class NonSequenceRow(_Row):
    KIND = NonSequenceSpec
    NAMES = ("W", "b", "U", "V", "c")
    COLUMNS = [
        ("name", "name", 0, "its name in expressions"),
        ("value", "value", 4,
         "a literal or a seeded generator: ones(2, 2), randn(3, 3), 0.5; may use earlier non-sequences"),
    ]

    def __init__(self, on_edit):
        super().__init__(on_edit)
        self.fields = {"name": self._name(), "value": self._expr("ones(2, 2)", self.COLUMNS[1][3])}

    def read(self):
        return NonSequenceSpec(self.fields["name"].text().strip(), self.fields["value"].text()), []

    def write(self, item: NonSequenceSpec) -> None:
        self.fields["name"].setText(item.name)
        self.fields["value"].setText(item.value)


class StepVariableRow(_Row):
    KIND = StepVariable
    NAMES = ("a", "d", "tmp", "v1")
    COLUMNS = [
        ("name", "name", 0, "its name in later step variables and the outputs"),
        ("expression", "expression", 4,
         "an intermediate value of the step; may read the step's arguments and earlier step variables"),
    ]

    def __init__(self, on_edit):
        super().__init__(on_edit)
        self.fields = {"name": self._name(), "expression": self._expr("f_tm2 + f_tm1", self.COLUMNS[1][3])}

    def read(self):
        return StepVariable(self.fields["name"].text().strip(), self.fields["expression"].text()), []

    def write(self, item: StepVariable) -> None:
        self.fields["name"].setText(item.name)
        self.fields["expression"].setText(item.expression)


class RowList(QWidget):
    """Rows of one kind under column headers, with ↑ ↓ ✕ buttons on each row."""

    edited = Signal()

    def __init__(self, row_type: type[_Row], key: str, empty_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.row_type, self.key = row_type, key
        self.rows: list[_Row] = []
        self._buttons: list[list[QToolButton]] = []
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(4)
        self._headers = []
        for col, (_, header, stretch, tip) in enumerate(row_type.COLUMNS):
            label = QLabel(header)
            label.setToolTip(tip)
            label.setStyleSheet("color: #555;")
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens
            self._headers.append(label)
            self._grid.setColumnStretch(col, stretch)
        self._empty = QLabel(empty_text)
        self._empty.setWordWrap(True)
        self._empty.setStyleSheet("color: #777; font-style: italic;")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self._empty)
        box.addLayout(self._grid)
        self._relayout()

    # -- editing ----------------------------------------------------------------------
    def add_row(self, item=None) -> _Row:
        row = self.row_type(lambda *_: self.edited.emit())
        if item is not None:
            row.write(item)
        self.rows.append(row)
        self._buttons.append(self._row_buttons(row))
        self._relayout()
        self.edited.emit()
        return row

    def remove_row(self, index: int) -> None:
        row = self.rows.pop(index)
        for w in row.widgets() + self._buttons.pop(index) + ([row.extra()] if row.extra() else []):
            self._grid.removeWidget(w)
            w.deleteLater()
        self._relayout()
        self.edited.emit()

    def move_row(self, index: int, delta: int) -> None:
        to = index + delta
        if not (0 <= index < len(self.rows) and 0 <= to < len(self.rows)):
            return
        self.rows[index], self.rows[to] = self.rows[to], self.rows[index]
        self._buttons[index], self._buttons[to] = self._buttons[to], self._buttons[index]
        self._relayout()
        self.edited.emit()

    def set_items(self, items) -> None:
        while self.rows:
            self.remove_row(len(self.rows) - 1)
        for item in items:
            self.add_row(item)

    def items(self) -> tuple[tuple, list[FieldProblem]]:
        out, problems = [], []
        for i, row in enumerate(self.rows):
            item, issues = row.read()
            out.append(item)
            problems += [FieldProblem(f"{self.key}[{i}].{field}", why) for field, why in issues]
        return tuple(out), problems

    def field_widget(self, index: int, field: str) -> QWidget | None:
        if 0 <= index < len(self.rows):
            return self.rows[index].fields.get(field)
        return None

    # -- layout -----------------------------------------------------------------------
    def _row_buttons(self, row: _Row) -> list[QToolButton]:
        buttons = []
        for text, tip, action in (("↑", "move up", lambda: self.move_row(self._index(row), -1)),
                                  ("↓", "move down", lambda: self.move_row(self._index(row), 1)),
                                  ("✕", "remove", lambda: self.remove_row(self._index(row)))):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setFixedWidth(22)
            b.clicked.connect(action)
            buttons.append(b)
        return buttons

    def _index(self, row: _Row) -> int:
        return self.rows.index(row)

    def _relayout(self) -> None:
        for i in reversed(range(self._grid.count())):
            self._grid.takeAt(i)
        n_cols = len(self.row_type.COLUMNS)
        for col, label in enumerate(self._headers):
            self._grid.addWidget(label, 0, col)
            label.setVisible(bool(self.rows))
        r = 1
        for i, (row, buttons) in enumerate(zip(self.rows, self._buttons)):
            for col, w in enumerate(row.widgets()):
                self._grid.addWidget(w, r, col)
            for k, b in enumerate(buttons):
                self._grid.addWidget(b, r, n_cols + k, Qt.AlignmentFlag.AlignCenter)
                b.setEnabled(not (k == 0 and i == 0) and not (k == 1 and i == len(self.rows) - 1))
            if row.extra() is not None:
                r += 1
                self._grid.addWidget(row.extra(), r, 1, 1, n_cols - 1)
            r += 1
        self._empty.setVisible(not self.rows)
        chain = [w for row in self.rows for w in row.fields.values()]  # Tab follows the rows as shown
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)
