"""Problems on the form: marked on their widgets, and listed under the form.

:class:`FieldMarker` puts each :class:`FieldProblem` on the widget of its field (red
border, tooltip, the column underlined) and clears the marks of fixed fields.
:class:`ProblemList` lists them in words ("output 'y' · expression, column 7: ..."); a
click on one emits ``chosen`` so the workbench can focus that field.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from explorer.core.errors import FieldProblem

from .fields import PROBLEM_COLOR, mark, unmark

if TYPE_CHECKING:  # the marker is torch-free (the Model form's custom cell uses it); the spec is not
    from explorer.core.spec import ScanSpec

_ROW = re.compile(r"^(?P<key>\w+)\[(?P<i>\d+)\](?:\.(?P<field>\w+(?:[.\w]|\[\d+\])*))?$")  # array.values[3][1] too
_KINDS = {"sequences": "sequence", "outputs": "output", "non_sequences": "non-sequence",
          "step_variables": "step variable"}
_SINGLE = {"n_steps": "steps", "until": "stop when", "go_backwards": "go backwards"}


def field_label(path: str, spec: ScanSpec | None) -> str:
    """``outputs[1].expression`` as words: ``output 'ratio' · expression``."""
    m = _ROW.match(path)
    if not m or m.group("key") not in _KINDS:
        return _SINGLE.get(path, path)
    key, i, field = m.group("key"), int(m.group("i")), m.group("field")
    items = getattr(spec, key, ()) if spec is not None else ()
    name = items[i].name if i < len(items) and items[i].name else f"#{i + 1}"
    return f"{_KINDS[key]} '{name}'" + (f" · {field}" if field and field != "name" else
                                         " · name" if field else "")


def problem_text(problem: FieldProblem, spec: ScanSpec | None) -> str:
    where = field_label(problem.field, spec)
    column = f", column {problem.column}" if problem.column else ""
    return f"{where}{column}: {problem.message}"


class FieldMarker:
    """Keeps the marks on the form's widgets in step with a list of problems."""

    def __init__(self, widget_for: Callable[[str], QWidget | None]):
        self._widget_for = widget_for
        self._marked: list[QWidget] = []

    def apply(self, problems: list[FieldProblem]) -> None:
        by_widget: dict[int, tuple[QWidget, list[FieldProblem]]] = {}
        for p in problems:
            w = self._widget_for(p.field)
            if w is not None:
                by_widget.setdefault(id(w), (w, []))[1].append(p)
        for w in self._marked:
            if id(w) not in by_widget:
                _safe(unmark, w)
        self._marked = []
        for w, ps in by_widget.values():
            column = next((p.column for p in ps if p.column), None)
            mark(w, "\n".join(p.message for p in ps), column)
            self._marked.append(w)

    def marked(self) -> list[QWidget]:
        return list(self._marked)


def _safe(fn, widget) -> None:
    try:
        fn(widget)
    except RuntimeError:  # the row was removed: its widget is gone
        pass


class ProblemList(QListWidget):
    """Every problem in words; hidden when there is none."""

    chosen = Signal(object)  # the FieldProblem clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setStyleSheet(f"QListWidget {{ border: 1px solid {PROBLEM_COLOR}; background: #fff8f8; }}"
                           "QListWidget::item { padding: 3px; }")
        self.itemClicked.connect(lambda item: self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.itemActivated.connect(lambda item: self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.problems: list[FieldProblem] = []
        self.setVisible(False)

    def show_problems(self, problems: list[FieldProblem], spec: ScanSpec | None) -> None:
        self.problems = list(problems)
        self.clear()
        for p in problems:
            item = QListWidgetItem("⚠ " + problem_text(p, spec))
            item.setData(Qt.ItemDataRole.UserRole, p)
            item.setToolTip(str(p))
            self.addItem(item)
        self.setVisible(bool(problems))
        line = self.fontMetrics().lineSpacing()
        self.setFixedHeight(min(2 + len(problems), 6) * line + 12)  # a few wrapped lines, then scroll
