"""Rows of items edited as a grid: :class:`Row` (the widgets of one item and how they map to
its dataclass) and :class:`RowList` (the rows under their column headers, with move up /
down and remove buttons). Qt only, no torch: the scan form's rows (:mod:`.rows`) and the
Model form's custom cell (:mod:`explorer.gui.custom_cell_form`) are built from them.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QLabel, QLineEdit, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from explorer.core.errors import FieldProblem

from .fields import ExpressionEdit, TapsEdit, mono_font


class Row:
    """Widgets of one item; subclasses list columns as (field, header, stretch, tip). The
    Model form's custom-cell rows (:mod:`explorer.gui.custom_cell_form`) are rows too."""

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

    EXTRA_UNDER_ALL = False  # the second line under all but the name column; True: the whole row, buttons too

    def extra(self) -> QWidget | None:
        """A second line under the row (spanning all but the name column), or None."""
        return None

    def editable_changed(self, on: bool) -> None:
        """The list became read-only (False) or editable: fields are already (dis)abled; a row
        whose fields depend on each other (a check box enabling others) sets them again here."""

    def read(self) -> tuple[object, list[tuple[str, str]]]:
        """(the spec item, [(field, problem)] for text the form itself cannot read)."""
        raise NotImplementedError

    def write(self, item) -> None:
        raise NotImplementedError


class RowList(QWidget):
    """Rows of one kind under column headers, with ↑ ↓ ✕ buttons on each row."""

    edited = Signal()

    def __init__(self, row_type: type[Row], key: str, empty_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.row_type, self.key = row_type, key
        self.rows: list[Row] = []
        self._buttons: list[list[QToolButton]] = []
        self._editable = True
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
    def add_row(self, item=None) -> Row:
        row = self.row_type(lambda *_: self.edited.emit())
        if item is not None:
            row.write(item)
        if not self._editable:
            self._apply_editable(row)
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

    def set_editable(self, on: bool) -> None:
        """Read-only (False): every field and ↑ ↓ ✕ button disabled, rows added later too."""
        self._editable = on
        for row in self.rows:
            self._apply_editable(row)
        self._relayout()

    def _apply_editable(self, row: Row) -> None:
        for w in row.fields.values():
            w.setEnabled(self._editable)
        row.editable_changed(self._editable)

    def field_widget(self, index: int, field: str) -> QWidget | None:
        if 0 <= index < len(self.rows):
            return self.rows[index].fields.get(field)
        return None

    # -- layout -----------------------------------------------------------------------
    def _row_buttons(self, row: Row) -> list[QToolButton]:
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

    def _index(self, row: Row) -> int:
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
                at_end = (k == 0 and i == 0) or (k == 1 and i == len(self.rows) - 1)  # ↑ on the first, ↓ the last
                b.setEnabled(self._editable and not at_end)
            if row.extra() is not None:
                r += 1
                if row.EXTRA_UNDER_ALL:  # a narrow form: the line takes the width of the name and the buttons too
                    self._grid.addWidget(row.extra(), r, 0, 1, n_cols + len(buttons))
                else:
                    self._grid.addWidget(row.extra(), r, 1, 1, n_cols - 1)
            r += 1
        self._empty.setVisible(not self.rows)
        chain = [w for row in self.rows for w in row.fields.values()]  # Tab follows the rows as shown
        for a, b in zip(chain, chain[1:]):
            QWidget.setTabOrder(a, b)
