"""The expression language at a glance: every function with its signature and what it
does, filterable; double-click puts the function into the expression being edited."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHeaderView, QLabel, QLineEdit, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from explorer.core.expr import FUNCTIONS

from .fields import mono_font

SYNTAX = ("Operators <code>+ - * / ** @</code>, comparisons, indexing <code>x[0]</code>, "
          "<code>x[1:3]</code>, <code>X[i, j]</code> and <code>.T</code>. Taps: <code>x_tm1</code> is "
          "x[t-1], <code>x_tp1</code> is x[t+1]; a fed-back output's plain name is its previous value. "
          "Random functions draw from the spec's seed.")


class FunctionHelp(QDialog):
    """A non-modal reference; ``chosen("tanh(")`` when a function is double-clicked."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Expression language")
        self.resize(640, 520)
        intro = QLabel(SYNTAX)
        intro.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter: name or words (e.g. random, axis, matrix)")
        self.filter.setClearButtonEnabled(True)
        self.table = QTableWidget(len(FUNCTIONS), 2)
        self.table.setHorizontalHeaderLabels(["function", "what it does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        for row, (name, fn) in enumerate(FUNCTIONS.items()):
            sig = QTableWidgetItem(fn.signature)
            sig.setFont(mono_font())
            sig.setData(Qt.ItemDataRole.UserRole, name)
            doc = fn.doc + (" (random: seeded)" if fn.random else "")
            self.table.setItem(row, 0, sig)
            self.table.setItem(row, 1, QTableWidgetItem(doc))
            self.table.item(row, 1).setToolTip(doc)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        hint = QLabel("Double-click a function to insert it at the cursor of the field you were editing.")
        hint.setStyleSheet("color: #666;")
        box = QVBoxLayout(self)
        box.addWidget(intro)
        box.addWidget(self.filter)
        box.addWidget(self.table, 1)
        box.addWidget(hint)
        self.filter.textChanged.connect(self._filter)
        self.table.cellDoubleClicked.connect(self._choose)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        for row in range(self.table.rowCount()):
            haystack = (self.table.item(row, 0).text() + " " + self.table.item(row, 1).text()).lower()
            self.table.setRowHidden(row, not all(w in haystack for w in words))

    def _choose(self, row: int, _column: int) -> None:
        self.chosen.emit(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) + "(")
