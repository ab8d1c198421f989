"""The runs table: one row per run of the workspace, newest first, and the differences table.

Plain widgets over :class:`~explorer.core.runs.RunRecord` lists: the panel gives them the
records, the baseline and the colours; they give back ticks and renames as signals.
"""

from __future__ import annotations

import math
import time

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
)

from explorer.core.runs import config_diff, short_label
from explorer.core.runs.compare import short_name, short_value

COLUMNS = ("", "Name", "Status", "Differs from the baseline", "Final held-out", "Best held-out", "Steps/s",
           "Duration", "Steps", "Source", "Created")
TICK, NAME, STATUS, DIFF = 0, 1, 2, 3
STATUS_COLOURS = {"running": "#1f77b4", "finished": "#2a7a2a", "failed": "#c02020", "crashed": "#c02020",
                  "nonfinite": "#c05000", "diverged": "#c05000", "stopped": "#707070", "pruned": "#707070"}


def fmt_loss(value) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.4g}"


def fmt_duration(seconds) -> str:
    if not seconds:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def diff_text(record, baseline) -> str:
    """What differs from the baseline, as a legend says it ("hidden 32, lr 0.01")."""
    if baseline is None or record.id == baseline.id:
        return "(baseline)" if baseline is not None else ""
    return short_label(config_diff(baseline.config, record.config)) or "same config"


class RunsTable(QTableWidget):
    ticked = Signal(str, bool)  # run id, shown on the plots or not
    renamed = Signal(str, str)  # run id, new name

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(DIFF, QHeaderView.ResizeMode.Stretch)
        for col, width in ((TICK, 28), (NAME, 170), (STATUS, 72)):
            self.setColumnWidth(col, width)
        self.records: list = []
        self._shown = None  # (baseline id, ticked, colours) the rows were filled with
        self._filling = False
        self.itemChanged.connect(self._changed)

    def fill(self, records: list, baseline, ticked: set[str], colours: dict[str, str]) -> None:
        """Show ``records`` (newest first) against ``baseline``; ticks and colours as given.
        When only some records changed (a run's steps while it trains), only their rows are
        rewritten: a thousand-run table stays cheap to refresh every poll."""
        self._filling = True
        try:
            selected = self.selected_id()
            shown = (baseline.id if baseline is not None else None, frozenset(ticked), tuple(sorted(colours.items())))
            same_rows = [r.id for r in records] == [r.id for r in self.records] and shown == self._shown
            old = self.records
            self.records, self._shown = list(records), shown
            self.setRowCount(len(records))
            for row, r in enumerate(records):
                if not same_rows or old[row] != r:
                    self._fill_row(row, r, baseline, ticked, colours)
            self.select_id(selected)
        finally:
            self._filling = False

    def _fill_row(self, row: int, r, baseline, ticked: set[str], colours: dict[str, str]) -> None:
        tick = QTableWidgetItem()
        tick.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        tick.setCheckState(Qt.CheckState.Checked if r.id in ticked else Qt.CheckState.Unchecked)
        tick.setData(Qt.ItemDataRole.UserRole, r.id)
        tick.setToolTip("show this run on the loss, gradient-norm and learning-rate plots")
        if r.id in colours:
            tick.setBackground(pg.mkColor(colours[r.id]))
        self.setItem(row, TICK, tick)
        name = QTableWidgetItem(r.name or r.id)
        name.setToolTip(f"{r.id}\n{r.message}" if r.message else r.id)
        name.setForeground(QColor("#202020" if r.name else "#808080"))
        self.setItem(row, NAME, name)
        cells = [r.status, diff_text(r, baseline), fmt_loss(r.final_heldout), fmt_loss(r.best_heldout),
                 f"{r.steps_per_s:,.0f}" if r.steps_per_s else "", fmt_duration(r.duration_s),
                 f"{r.steps:,}" + (f" / {r.total_steps:,}" if r.total_steps and r.total_steps != r.steps else ""),
                 r.source + (f" {r.sweep} #{r.trial}" if r.sweep else ""),
                 time.strftime("%d %b %H:%M:%S", time.localtime(r.created))]
        for col, text in enumerate(cells, start=STATUS):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if 4 <= col <= 8:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if col == STATUS:
                item.setForeground(QColor(STATUS_COLOURS.get(text, "#202020")))
                item.setToolTip(r.message)
            self.setItem(row, col, item)

    def set_colours(self, colours: dict[str, str]) -> None:
        self._filling = True
        try:
            for row, r in enumerate(self.records):
                item = self.item(row, TICK)
                item.setBackground(pg.mkColor(colours[r.id]) if r.id in colours else QColor(0, 0, 0, 0))
        finally:
            self._filling = False

    def row_of(self, run_id: str) -> int:
        return next((i for i, r in enumerate(self.records) if r.id == run_id), -1)

    def set_ticked(self, run_id: str, on: bool) -> None:
        row = self.row_of(run_id)
        if row >= 0:
            self.item(row, TICK).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def selected_id(self) -> str | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if rows and rows[0].row() < len(self.records):
            return self.records[rows[0].row()].id
        row = self.currentRow()
        return self.records[row].id if 0 <= row < len(self.records) else None

    def select_id(self, run_id: str | None) -> None:
        row = self.row_of(run_id) if run_id else -1
        if row >= 0:
            self.selectRow(row)

    def _changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        run = self.records[item.row()]
        if item.column() == TICK:
            self.ticked.emit(run.id, item.checkState() == Qt.CheckState.Checked)
        elif item.column() == NAME and item.text() != (run.name or run.id):
            self.renamed.emit(run.id, item.text())


class DiffTable(QTableWidget):
    """The config fields where the shown runs differ: one row per field, one column per run
    (the baseline first)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setAlternatingRowColors(True)

    def show_runs(self, runs: list, baseline, colours: dict[str, str]) -> None:
        """``runs``: records shown on the plots; the baseline's column comes first."""
        columns = ([baseline] if baseline is not None and runs else []) + [r for r in runs if baseline is None
                                                                           or r.id != baseline.id]
        fields: dict[str, None] = {}
        first = columns[0].config if columns else {}
        for r in columns[1:]:
            fields.update(dict.fromkeys(config_diff(first, r.config)))
        self.clear()
        self.setColumnCount(len(columns))
        self.setRowCount(len(fields))
        self.setHorizontalHeaderLabels([("baseline: " if baseline is not None and r.id == baseline.id else "")
                                        + _short(r.name or r.id) for r in columns])
        self.setVerticalHeaderLabels(list(fields))
        for col, r in enumerate(columns):
            header = self.horizontalHeaderItem(col)
            header.setToolTip(f"{r.name or r.id}\n{r.id}")
            if r.id in colours:
                header.setForeground(pg.mkColor(colours[r.id]))
            flat = _flat(r.config)
            for row, path in enumerate(fields):
                item = QTableWidgetItem(short_value(path, flat.get(path)))
                item.setToolTip(f"{path} ({short_name(path) or 'value'})")
                self.setItem(row, col, item)


def _short(text: str, most: int = 22) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _flat(config: dict) -> dict:
    from explorer.core.runs.compare import flatten

    return flatten(config or {})
