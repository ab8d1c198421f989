"""The custom cell in the Model form: states, parameters, step variables and one expression
per state, edited with the scan workbench's rows and expression lines.

    states      [h ▾]                          h, or h and c
    parameters  name  shape                    ↑ ↓ ✕
                W_ih  H, I
                      init [uniform ▾] scale [0.1]
    variables   (optional)  a = x @ W_ih.T + b
    h =         tanh(x @ W_ih.T + h_tm1 @ W_hh.T + b)

Every edit is checked live: the structure at once on the GUI thread, then a dry run of step 0
on a worker (:class:`~.scan.live_check.LiveCheck`; the core's :func:`check_layers` imports
torch there, never here). Each problem is marked on its field (the column underlined, as in
the workbench) and written under its row or expression.
"""

from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from explorer.core.errors import FieldProblem
from explorer.core.lab.custom_cell import RESERVED, STATE_SETS, CellParam, CellVariable, CustomCell, structural_problems

from .custom_cell_rows import ParamRow, VariableRow, message_label, show_lines
from .scan.fields import PROBLEM_COLOR, ExpressionEdit, mono_font
from .scan.live_check import LiveCheck, Verdict
from .scan.problems import FieldMarker
from .scan.row_list import RowList

PATH = "model.custom"
DEBOUNCE_MS = 250  # pause in typing before the cell is checked
STATE_NAMES = tuple(dict.fromkeys(s for states in STATE_SETS for s in states))  # every state a cell may have: h, c
HELP = ("Expressions read x (the input at t, B × I), h_tm1 and c_tm1 (the states at t − 1, B × H), the parameters "
        "and the variables; each gives its state's new value (B × H), and h feeds the readout. Shapes are written "
        "in I (the layer's input size), H (the hidden size) and whole numbers.")
_ROW_PATH = re.compile(r"^(?P<key>params|variables)\[(?P<i>\d+)\](?:\.(?P<field>\w+))?$")
_EXPR_PATH = re.compile(r"^expressions\[(?P<i>\d+)\]$")
Context = tuple[str, int, int]  # (task name, hidden size, layers): what the dry run needs besides the cell


class CustomCellEditor(QGroupBox):
    """A :class:`CustomCell` as widgets. ``context()`` gives (task, hidden size, layers) for the
    dry run, or None while those fields cannot be read; ``edited`` on every change."""

    edited = Signal()
    checked = Signal(object)  # a complete Verdict of the live check, already marked

    def __init__(self, context: Callable[[], Context | None] = lambda: None, parent: QWidget | None = None):
        super().__init__("Custom cell", parent)
        self._context = context
        self._loading = False
        self._has_cell = False
        self._active = True  # checks run only while the form shows the cell (cell = custom)
        self._problems: list[FieldProblem] = []  # what is marked now
        self.states = QComboBox()
        for states in STATE_SETS:
            self.states.addItem(" and ".join(states), states)
        self.states.setToolTip("h alone, or h and a cell state c (LSTM-like); h feeds the readout and the next layer")
        self.states.currentIndexChanged.connect(self._states_changed)
        self.params = RowList(ParamRow, f"{PATH}.params", "No parameters: the step reads only x and its states.")
        self.variables = RowList(VariableRow, f"{PATH}.variables", "None (optional).")
        self.expressions: dict[str, ExpressionEdit] = {}
        self.expression_messages: dict[str, QLabel] = {}
        self.add_param = self._add_button("+ Add parameter", "add a parameter row", "params")
        self.add_variable = self._add_button("+ Add variable", "add a step variable row", "variables")
        self.message = message_label()  # problems of the whole cell (states, counts)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #555; font-size: 11px;")
        self.start = QPushButton("Start from a vanilla RNN")
        self.start.setToolTip("fill in the default custom cell: tanh(x @ W_ih.T + h_tm1 @ W_hh.T + b)")
        self.start.clicked.connect(self._start_default)
        self._build()
        self.marker = FieldMarker(self.widget_for)
        self.checker = LiveCheck(self._read_for_check, self, static=_static, evaluate=_dry_run, whole=PATH,
                                 debounce_ms=DEBOUNCE_MS)
        self.checker.checked.connect(self._show_verdict)
        self.checker.previewed.connect(lambda _: self._set_status("checking step 0…"))
        self.params.edited.connect(self._changed)
        self.variables.edited.connect(self._changed)
        self.set_cell(None)

    def _add_button(self, text: str, tip: str, key: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda: self.add_row(key))
        return button

    def _build(self) -> None:
        box = QVBoxLayout(self)
        box.setSpacing(6)
        about = QLabel(HELP)
        about.setWordWrap(True)
        about.setStyleSheet("color: #555; font-size: 11px;")
        box.addWidget(about)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(4)
        states = QHBoxLayout()
        states.addWidget(QLabel("States"))
        states.addWidget(self.states, 1)
        body.addLayout(states)
        for title, rows, add in (("Parameters", self.params, self.add_param),
                                 ("Step variables", self.variables, self.add_variable)):
            body.addWidget(_heading(title))
            body.addWidget(rows)
            line = QHBoxLayout()
            line.addWidget(add)
            line.addStretch(1)
            body.addLayout(line)
        body.addWidget(_heading("State expressions"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        placeholders = {"h": "tanh(x @ W_ih.T + h_tm1 @ W_hh.T + b)", "c": "f * c_tm1 + i * g"}
        for k, state in enumerate(STATE_NAMES):
            label = QLabel(f"{state} =")
            label.setFont(mono_font())
            edit = ExpressionEdit(placeholders.get(state, ""), f"the new {state} at step t, shape (B, H)")
            edit.textChanged.connect(self._changed)
            message = message_label()
            grid.addWidget(label, 2 * k, 0)
            grid.addWidget(edit, 2 * k, 1)
            grid.addWidget(message, 2 * k + 1, 1)
            edit.setProperty("stateLabel", label)
            self.expressions[state], self.expression_messages[state] = edit, message
        body.addLayout(grid)
        box.addWidget(self.body)
        box.addWidget(self.start)
        box.addWidget(self.message)
        box.addWidget(self.status)

    # -- cell <-> widgets ------------------------------------------------------------------------
    def set_cell(self, cell: CustomCell | None) -> None:
        """Show ``cell`` (None: no cell yet); emits no ``edited``."""
        self._loading = True
        try:
            self._has_cell = cell is not None
            cell = cell or CustomCell()
            index = self.states.findData(cell.states)
            self.states.setCurrentIndex(max(index, 0))
            self.params.set_items(cell.params)
            self.variables.set_items(cell.variables)
            texts = dict(zip(cell.states, cell.expressions))
            for state, edit in self.expressions.items():
                edit.setText(texts.get(state, "") if self._has_cell else "")
        finally:
            self._loading = False
        self.body.setVisible(self._has_cell)
        self.start.setVisible(not self._has_cell)
        self._show_states()
        self.mark([])
        self._set_status("" if self._has_cell else "No custom cell yet.")
        self.schedule_check()

    def has_cell(self) -> bool:
        return self._has_cell

    def cell(self) -> tuple[CustomCell | None, list[FieldProblem]]:
        """The cell the widgets show, or None and the fields that cannot be read (a scale that is
        not a number); (None, []) when there is no cell. Every other check is the core's."""
        if not self._has_cell:
            return None, []
        params, problems = self.params.items()
        variables, more = self.variables.items()
        problems += more
        if problems:
            return None, problems
        states = self.states.currentData()
        return CustomCell(states, params, tuple(self.expressions[s].text() for s in states), variables), []

    def add_row(self, key: str):
        """A new parameter (``params``) or variable (``variables``) row with a free name."""
        rows = self.params if key == "params" else self.variables
        taken = RESERVED | {r.fields["name"].text().strip() for rs in (self.params, self.variables) for r in rs.rows}
        names = rows.row_type.NAMES
        name = next((n for n in names if n not in taken),
                    next(f"{names[0]}{k}" for k in range(2, 10_000) if f"{names[0]}{k}" not in taken))
        row = rows.add_row(CellParam(name) if key == "params" else CellVariable(name, ""))
        row.fields["name"].setFocus()
        return row

    def _start_default(self) -> None:
        self.set_cell(CustomCell())
        self.edited.emit()

    def _states_changed(self) -> None:
        self._show_states()
        self._changed()

    def _show_states(self) -> None:
        states = self.states.currentData() or STATE_NAMES[:1]
        for state, edit in self.expressions.items():
            for w in (edit, edit.property("stateLabel")):
                w.setVisible(state in states)
            if state not in states:
                self.expression_messages[state].hide()

    def _changed(self) -> None:
        if not self._loading:
            self.schedule_check()
            self.edited.emit()

    # -- read-only while training -------------------------------------------------------------
    def set_read_only(self, on: bool) -> None:
        tip = "fixed while training: Stop or Reset to change the cell"
        for w in (self.states, self.add_param, self.add_variable, self.start, *self.expressions.values()):
            w.setEnabled(not on)
        self.params.set_editable(not on)
        self.variables.set_editable(not on)
        self.setToolTip(tip if on else "")

    # -- checks and marks ----------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        """Checks run while the form shows the cell (cell = custom) and stop when it does not."""
        self._active = on
        self.schedule_check()

    def schedule_check(self) -> None:
        """Check after a pause in typing (also when the task, hidden size or layers change)."""
        if self._active and self._has_cell:
            self.checker.schedule()

    def check_now(self) -> Verdict | None:
        return self.checker.now() if self._active and self._has_cell else None

    def dry_run_problems(self) -> list[FieldProblem]:
        """What the last dry run found, when it is about the cell and context shown now."""
        return list(self.checker.last.problems) if self.checker.is_current() else []

    def shutdown(self, ms: int = 5000) -> bool:
        return self.checker.shutdown(ms)

    def _read_for_check(self):
        cell, problems = self.cell()
        return (cell, self._context()), problems

    def _show_verdict(self, verdict: Verdict) -> None:
        self.mark(verdict.problems)
        if verdict.problems:
            n = len(verdict.problems)
            self._set_status(f"{n} problem{'s' if n > 1 else ''} in the cell, marked on {'their' if n > 1 else 'its'} "
                             "field" + ("s" if n > 1 else ""), problem=True)
        elif verdict.lengths:
            self._set_status(f"✓ step 0 runs: every shape fits (I = {verdict.lengths['I']}, "
                             f"H = {verdict.lengths['H']})")
        else:
            self._set_status("the dry run of step 0 waits for a valid task, hidden size and layers")
        self.checked.emit(verdict)

    def _set_status(self, text: str, problem: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {PROBLEM_COLOR if problem else '#555'}; font-size: 11px;")
        self.status.setVisible(bool(text))

    def has_problems(self) -> bool:
        return bool(self._problems)

    def widget_for(self, path: str) -> QWidget | None:
        """The widget of ``model.custom.params[1].shape`` (and so on), or None."""
        rel = path[len(PATH) + 1:] if path.startswith(PATH + ".") else None
        if rel is None:
            return None
        if rel == "states":
            return self.states
        m = _ROW_PATH.match(rel)
        if m:
            rows = self.params if m.group("key") == "params" else self.variables
            return rows.field_widget(int(m.group("i")), m.group("field") or "name")
        m = _EXPR_PATH.match(rel)
        states = self.states.currentData() or ()
        if m and int(m.group("i")) < len(states):
            return self.expressions[states[int(m.group("i"))]]
        return None

    def mark(self, problems: list[FieldProblem]) -> None:
        """Mark each ``model.custom...`` problem on its field (its column underlined) and write it
        under its row or expression; the others are ignored. Fixed fields are cleared."""
        mine = [p for p in problems if p.field == PATH or p.field.startswith(PATH + ".")]
        self._problems = mine
        for p in mine:
            widget = self.widget_for(p.field)
            if isinstance(widget, ExpressionEdit):
                widget.show_column(p.column)
        self.marker.apply(mine)
        rows: dict[tuple[str, int], list[str]] = {}
        exprs: dict[int, list[str]] = {}
        whole: list[str] = []
        for p in mine:
            rel = p.field[len(PATH) + 1:]
            column = f"column {p.column}: " if p.column else ""
            row, expr = _ROW_PATH.match(rel), _EXPR_PATH.match(rel)
            if row and self.widget_for(p.field) is not None:
                field = row.group("field") or "name"
                rows.setdefault((row.group("key"), int(row.group("i"))), []).append(
                    f"{field}, {column}{p.message}" if column else f"{field} {p.message}")
            elif expr and self.widget_for(p.field) is not None:
                exprs.setdefault(int(expr.group("i")), []).append(f"{column}{p.message}")
            else:
                whole.append(f"{rel or 'the cell'} {p.message}")
        for key, rowlist in (("params", self.params), ("variables", self.variables)):
            for i, row in enumerate(rowlist.rows):
                show_lines(row.message, rows.get((key, i), []))
        states = self.states.currentData() or ()
        for state, label in self.expression_messages.items():
            show_lines(label, exprs.get(states.index(state), []) if state in states else [])
        show_lines(self.message, whole)


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setContentsMargins(0, 4, 0, 0)
    return label


def _static(spec) -> list[FieldProblem]:
    """What needs no evaluation (GUI thread): names, inits, scales, states."""
    cell, _ = spec
    return [] if cell is None else structural_problems(cell, PATH)  # None: a field the form cannot read


def _dry_run(spec, cancel=None) -> tuple[list[FieldProblem], dict | None]:
    """On the worker: every expression compiled and step 0 run for each kind of layer (torch)."""
    cell, context = spec
    if cell is None or context is None:
        return [], None
    from explorer.core.lab.config import TaskConfig
    from explorer.core.lab.custom_rnn import check_layers
    from explorer.core.lab.tasks import make_task

    task, hidden, layers = context
    input_size = make_task(TaskConfig(name=task)).input_size
    return check_layers(cell, input_size, hidden, layers, PATH), {"I": input_size, "H": hidden}
