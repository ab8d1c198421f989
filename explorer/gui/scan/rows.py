"""Editable rows of the scan form: one row widget set per sequence / output / value.

A row kind says which columns it has and how its widgets map to its spec dataclass
(:class:`SequenceRow` <-> ``SequenceSpec`` and so on); :class:`~.row_list.RowList` lays
the rows out in a grid under their column headers, with move up / down and remove buttons.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from explorer.core.spec import NonSequenceSpec, OutputSpec, SequenceSpec, StepVariable

from .row_list import Row, RowList

__all__ = ["NonSequenceRow", "OutputRow", "Row", "RowList", "SequenceRow", "StepVariableRow"]


class SequenceRow(Row):
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


class OutputRow(Row):
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

    def editable_changed(self, on: bool) -> None:
        if on:  # initial and taps only while fed back
            self._enable(self.fields["fed_back"].isChecked())

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


class NonSequenceRow(Row):
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


class StepVariableRow(Row):
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
