"""One output of a run: its values per step in a table, and a plot of each element vs step.

The table reads the array through a model (a million steps cost nothing to show); the
plot's curves are made once and updated with ``setData``; a vertical line marks step t
and can be dragged to pick a step.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QLabel, QSplitter, QTableView, QVBoxLayout, QWidget

from ..plots.base import key_html
from .fields import mono_font
from .stepdata import Table

MAX_CURVES = 16  # more elements than this: plot the first 16 and say so
MAX_LEGEND = 8  # name the curves in a legend up to this many
HIGHLIGHT = QColor("#ffe9a8")


class ArrayModel(QAbstractTableModel):
    """A (steps, elements) array as a read-only table; one row can be highlighted."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._table: Table | None = None
        self._row = -1

    def set_table(self, table: Table) -> None:
        self.beginResetModel()
        self._table, self._row = table, -1
        self.endResetModel()

    def set_highlight(self, row: int) -> None:
        old, self._row = self._row, row
        for r in (old, row):
            if 0 <= r < self.rowCount():
                self.dataChanged.emit(self.index(r, 0), self.index(r, self.columnCount() - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if self._table is None or parent.isValid() else self._table.values.shape[0]

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if self._table is None or parent.isValid() else self._table.values.shape[1]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if self._table is None or not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            v = self._table.values[index.row(), index.column()]
            return f"{v:.0f}" if self._table.integral else f"{v:.8g}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and index.row() == self._row:
            return QBrush(HIGHLIGHT)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or self._table is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._table.columns[section]
        return f"t={section}"


class OutputPanel(QWidget):
    """Table | plot of one output; ``step_picked`` when the step line is dragged."""

    step_picked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = ArrayModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setFont(mono_font())
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.clicked.connect(lambda index: self.step_picked.emit(index.row()))
        self.plot = pg.PlotWidget(background="w")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "step t")
        self.plot.setDownsampling(auto=True, mode="peak")  # for the eye only: the table has every value
        self.plot.setClipToView(True)
        self.marker = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen("#d08a00", width=2))
        self.marker.setZValue(10)
        self.plot.addItem(self.marker)
        self.marker.sigDragged.connect(lambda line: self.step_picked.emit(int(round(line.value()))))
        self.curves: list[pg.PlotDataItem] = []
        self.legend = pg.LabelItem("", justify="left", size="8pt")  # the key, right of the data
        self.plot.getPlotItem().layout.addItem(self.legend, 2, 3)
        self.note = QLabel()
        self.note.setStyleSheet("color: #666;")
        self.note.setWordWrap(True)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.table)
        self.split.addWidget(self.plot)
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.split, 1)
        box.addWidget(self.note)

    def show_output(self, name: str, table: Table) -> None:
        self.model.set_table(table)
        self.table.resizeColumnsToContents()
        self._fit_table()
        values = table.values
        n = min(values.shape[1], MAX_CURVES)
        while len(self.curves) < n:  # made once, then only updated
            self.curves.append(self.plot.plot(symbol="o", symbolSize=5))
        while len(self.curves) > n:
            self.plot.removeItem(self.curves.pop())
        steps = np.arange(values.shape[0])
        dense = values.shape[0] > 200
        for k, curve in enumerate(self.curves):
            colour = pg.intColor(k, hues=max(n, 1), values=1, maxValue=200)
            curve.setPen(pg.mkPen(colour, width=2))
            curve.setSymbol(None if dense else "o")
            curve.setSymbolBrush(colour)
            curve.setSymbolPen(colour)
            curve.setData(steps, values[:, k])
        shown = 1 < n <= MAX_LEGEND
        colours = [pg.intColor(k, hues=max(n, 1), values=1, maxValue=200).name() for k in range(n)]
        self.legend.setText(key_html([(html.escape(f"{name}{label}"), c, "━━")
                                      for c, label in zip(colours, table.columns)]) if shown else "")
        self.plot.setLabel("left", name)
        axis = self.plot.getAxis("bottom")
        if values.shape[0] <= 20:  # few steps: a tick per step, no fractions
            axis.setTickSpacing(major=5 if values.shape[0] > 10 else 1, minor=1)
        else:
            axis.setTickSpacing()
        notes = [table.note] if table.note else []
        if values.shape[1] > MAX_CURVES:
            notes.append(f"plot shows the first {MAX_CURVES} of {values.shape[1]} columns; the table has all")
        self.note.setText("; ".join(notes))
        self.note.setVisible(bool(notes))
        self.plot.enableAutoRange()

    def _fit_table(self) -> None:
        """Give the table the width of its columns (at most half the panel), the plot the rest."""
        header = self.table.verticalHeader()
        cols = sum(self.table.columnWidth(c) for c in range(min(self.model.columnCount(), 8)))
        want = header.sizeHint().width() + cols + self.table.verticalScrollBar().sizeHint().width() + 6
        total = max(self.split.width(), 400)
        want = int(min(max(want, 120), total * 0.5))
        self.split.setSizes([want, total - want])

    def set_step(self, t: int) -> None:
        self.model.set_highlight(t)
        self.marker.setValue(t)
        if 0 <= t < self.model.rowCount():
            self.table.scrollTo(self.model.index(t, 0), QAbstractItemView.ScrollHint.EnsureVisible)
