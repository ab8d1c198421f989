"""The rows of the custom cell's editor (:mod:`.custom_cell_form`): a parameter (name and shape,
init and scale on the line under it) and a step variable (name and expression); each writes its
problems under itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from explorer.core.lab.custom_cell import INIT_HELP, INITS, UNSCALED_INITS, CellParam, CellVariable

from .config_form import _format, _parse
from .scan.fields import PROBLEM_COLOR
from .scan.row_list import Row

_MESSAGE_STYLE = f"color: {PROBLEM_COLOR}; font-size: 11px;"


def message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(_MESSAGE_STYLE)
    label.hide()
    return label


def show_lines(label: QLabel, lines: list[str]) -> None:
    label.setText("\n".join(lines))
    label.setVisible(bool(lines))


class ParamRow(Row):
    """One parameter: name and shape on the row, init and scale on the line under it."""

    KIND = CellParam
    NAMES = ("W", "U", "b", "V", "w", "u")
    EXTRA_UNDER_ALL = True  # init and scale under the whole row: the Model form is narrow
    COLUMNS = [
        ("name", "name", 0, "its name in the expressions"),
        ("shape", "shape", 4, "sizes in I (the layer's input size), H (the hidden size) and whole numbers, "
                              "separated by commas: H, I is a matrix of H rows and I columns; H a vector"),
    ]

    def __init__(self, on_edit):
        super().__init__(on_edit)
        init = QComboBox()
        init.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        init.setMinimumContentsLength(7)  # narrow: the list still opens as wide as its longest init
        init.addItems(list(INITS))
        for i, name in enumerate(INITS):
            init.setItemData(i, INIT_HELP[name], Qt.ItemDataRole.ToolTipRole)
        init.setToolTip("how the parameter starts: " + "; ".join(f"{k}: {v}" for k, v in INIT_HELP.items()))
        init.currentTextChanged.connect(self._on_edit)
        init.currentTextChanged.connect(lambda _: self.editable_changed(init.isEnabled()))
        scale = QLineEdit()
        scale.setMinimumWidth(40)
        scale.setMaximumWidth(70)
        scale.setToolTip("uniform: values in [-scale, scale]; normal: σ; orthogonal: the gain")
        scale.textChanged.connect(self._on_edit)
        self.fields = {"name": self._name(), "shape": self._expr("H, H", self.COLUMNS[1][3]), "init": init,
                       "scale": scale}
        self.fields["name"].setMaximumWidth(80)  # W_ih, b_hh: the room goes to the shape
        self.message = message_label()
        self.line2 = QWidget()
        box = QVBoxLayout(self.line2)
        box.setContentsMargins(0, 0, 0, 4)
        box.setSpacing(1)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(4)
        self._labels = [QLabel("init"), QLabel("scale")]
        for label in self._labels:
            label.setStyleSheet("color: #555; padding-left: 4px;")
        line.addWidget(self._labels[0])
        line.addWidget(init)
        line.addWidget(self._labels[1])
        line.addWidget(scale)
        line.addStretch(1)
        box.addLayout(line)
        box.addWidget(self.message)

    def extra(self) -> QWidget:
        return self.line2

    def editable_changed(self, on: bool) -> None:
        self.fields["scale"].setEnabled(on and self.fields["init"].currentText() not in UNSCALED_INITS)

    def read(self):
        init = self.fields["init"].currentText()
        scale, why = _parse(self.fields["scale"].text(), CellParam.scale)
        if why and init in UNSCALED_INITS:  # nothing reads it (and its field is greyed out)
            scale, why = CellParam.scale, None
        item = CellParam(self.fields["name"].text().strip(), self.fields["shape"].text(), init,
                         CellParam.scale if why else scale)
        return item, [("scale", why)] if why else []

    def write(self, item: CellParam) -> None:
        self.fields["name"].setText(item.name)
        self.fields["shape"].setText(item.shape)
        self.fields["init"].setCurrentText(item.init)
        self.fields["scale"].setText(_format(float(item.scale)))
        self.editable_changed(self.fields["init"].isEnabled())


class VariableRow(Row):
    """One step variable: a named intermediate computed before the state expressions."""

    KIND = CellVariable
    NAMES = ("a", "f", "g", "z", "r")
    EXTRA_UNDER_ALL = True  # its problems under the whole row: the Model form is narrow
    COLUMNS = [
        ("name", "name", 0, "its name in the later variables and the state expressions"),
        ("expression", "expression", 4, "computed at each step, in order, before the states' expressions; "
                                        "reads x, h_tm1 (c_tm1), the parameters and the variables above it"),
    ]

    def __init__(self, on_edit):
        super().__init__(on_edit)
        self.fields = {"name": self._name(), "expression": self._expr("sigmoid(x @ W_f + h_tm1 @ U_f)",
                                                                      self.COLUMNS[1][3])}
        self.fields["name"].setMaximumWidth(80)  # f, gate: the room goes to the expression
        self.message = message_label()

    def extra(self) -> QWidget:
        return self.message

    def read(self):
        return CellVariable(self.fields["name"].text().strip(), self.fields["expression"].text()), []

    def write(self, item: CellVariable) -> None:
        self.fields["name"].setText(item.name)
        self.fields["expression"].setText(item.expression)
