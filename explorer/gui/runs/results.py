"""What a sweep found: the objective against each swept field (a log axis where the values
are log-spaced), a heatmap for two fields, parallel coordinates for three. Clicking a
trial's point (or heatmap cell) opens its run.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout

from ..plots.base import pen


def _axis_values(values: list) -> tuple[list, bool]:
    """Distinct values in order; True when they are numbers (else categories)."""
    distinct = list(dict.fromkeys(values))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in distinct)
    return (sorted(distinct) if numeric else distinct), numeric


class SweepResults(QDialog):
    open_run = Signal(str)  # a run id: the user clicked its point

    def __init__(self, definition, parent=None):
        super().__init__(parent)
        self.definition = definition
        self.setWindowTitle(f"Sweep results: {definition.name}")
        self.resize(900, 520)
        self.view = pg.GraphicsLayoutWidget()
        self.note = QLabel("")
        self.note.setWordWrap(True)
        look = "  ".join(definition.look_for)
        layout = QVBoxLayout(self)
        if look:
            text = QLabel(look)
            text.setWordWrap(True)
            text.setStyleSheet("color: #404040;")
            layout.addWidget(text)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)
        self.trials: list = []
        self.points: list[tuple[float, float, str]] = []  # (x, y, run id) of clickable marks, per plot item
        self.cells: dict[tuple[int, int], str] = {}  # heatmap cell -> run id
        self.kind = ""

    @property
    def fields(self) -> list[str]:
        return list(self.definition.param_names)

    def show_trials(self, trials: list) -> None:
        self.trials = list(trials)
        self.view.clear()
        done = [t for t in trials if t.objective is not None and math.isfinite(t.objective)]
        objective = self.definition.objective
        self.note.setText(f"{len(done)} of {len(trials)} trials have a {objective}"
                          + (f"; best {min(t.objective for t in done):.4g}" if done else "")
                          + ". Click a point to open its run.")
        if self.definition.points or len(self.fields) == 1:
            self.kind = "line"
            self._lines(done, objective)
        elif len(self.fields) == 2:
            self.kind = "heatmap"
            self._heatmap(done, objective)
        else:
            self.kind = "parallel"
            self._parallel(done, objective)

    # -- one plot per field ---------------------------------------------------------------------------------
    def _lines(self, done: list, objective: str) -> None:
        if self.definition.points:  # one axis: the point's index, labelled with its values
            plot = self.view.addPlot(title=f"{objective} per point")
            names = list(self.definition.param_names)
            labels = [" / ".join(str(p.get(k, "-")) for k in names) for p in self.definition.points]
            plot.getAxis("bottom").setTicks([list(enumerate(labels))])
            plot.setLabel("bottom", "point: " + " / ".join(k.split(".")[-1] for k in names))
            plot.getAxis("left").enableAutoSIPrefix(False)
            self._scatter(plot, [(t.index, t.objective, t.run_id) for t in done])
            plot.setXRange(-0.5, len(labels) - 0.5, padding=0)  # room for the first and last labels
            plot.setLabel("left", objective)
            return
        for i, path in enumerate(self.fields):
            f = self.definition.fields[i]
            plot = self.view.addPlot(row=0, col=i, title=f"{objective} against {path}")
            values, numeric = _axis_values(list(f.values))
            log = numeric and f.log_scale and min(values) > 0
            marks = []
            for t in done:
                v = t.point.get(path)
                x = (math.log10(v) if log else v) if numeric else values.index(v)
                marks.append((x, t.objective, t.run_id))
            if not numeric:
                plot.getAxis("bottom").setTicks([list(enumerate(map(str, values)))])
            elif log:
                plot.getAxis("bottom").setTicks([[(math.log10(v), f"{v:g}") for v in values]])
            plot.setLabel("bottom", path + (" (log)" if log else ""))
            plot.setLabel("left", objective)
            plot.getAxis("left").enableAutoSIPrefix(False)
            marks.sort()
            if len(self.fields) == 1 and marks:
                plot.plot([m[0] for m in marks], [m[1] for m in marks], pen=pen("#9ab", 1))
            self._scatter(plot, marks)

    def _scatter(self, plot, marks: list) -> None:
        spots = [{"pos": (x, y), "data": rid} for x, y, rid in marks if rid]
        scatter = pg.ScatterPlotItem(spots=spots, size=10, brush=pg.mkBrush("#1f77b4"), pen=pg.mkPen("w"),
                                     hoverable=True, hoverBrush=pg.mkBrush("#ff7f0e"))
        scatter.sigClicked.connect(lambda _, points, ev=None: points and self.open_run.emit(points[0].data()))
        plot.addItem(scatter)
        self.points += marks

    # -- two fields: a heatmap ------------------------------------------------------------------------------
    def _heatmap(self, done: list, objective: str) -> None:
        (fa, fb) = self.definition.fields[:2]
        xs, _ = _axis_values(list(fa.values))
        ys, _ = _axis_values(list(fb.values))
        grid = np.full((len(xs), len(ys)), np.nan)
        self.cells = {}
        for t in done:
            i, j = xs.index(t.point[fa.path]), ys.index(t.point[fb.path])
            grid[i, j] = t.objective
            self.cells[(i, j)] = t.run_id
        plot = self.view.addPlot(title=f"{objective}: {fa.path} against {fb.path}")
        image = pg.ImageItem(grid)
        finite = grid[np.isfinite(grid)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
            image.setLevels((lo, hi if hi > lo else lo + 1e-12))
        plot.addItem(image)
        plot.getAxis("bottom").setTicks([[(i + 0.5, f"{v:g}" if isinstance(v, float) else str(v))
                                          for i, v in enumerate(xs)]])
        plot.getAxis("left").setTicks([[(j + 0.5, f"{v:g}" if isinstance(v, float) else str(v))
                                        for j, v in enumerate(ys)]])
        plot.setLabel("bottom", fa.path)
        plot.setLabel("left", fb.path)
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):
                text = pg.TextItem(f"{value:.3g}", color="w", anchor=(0.5, 0.5))
                text.setPos(i + 0.5, j + 0.5)
                plot.addItem(text)
        image.mouseClickEvent = lambda ev: self._cell_clicked(ev.pos())
        self.heatmap = grid

    def _cell_clicked(self, pos) -> None:
        run_id = self.cells.get((int(pos.x()), int(pos.y())))
        if run_id:
            self.open_run.emit(run_id)

    # -- three fields: parallel coordinates ------------------------------------------------------------------
    def _parallel(self, done: list, objective: str) -> None:
        fields = self.definition.fields[:3]
        plot = self.view.addPlot(title=f"{objective} over {', '.join(f.path for f in fields)}")
        axes = []
        for f in fields:
            values, numeric = _axis_values(list(f.values))
            log = numeric and f.log_scale and min(values) > 0
            axes.append((f.path, values, numeric, log))
        objs = [t.objective for t in done]
        lo, hi = (min(objs), max(objs)) if objs else (0.0, 1.0)
        cmap = pg.colormap.get("viridis")
        marks = []
        for t in done:
            ys = [self._unit(t.point.get(path), values, numeric, log) for path, values, numeric, log in axes]
            ys.append((t.objective - lo) / (hi - lo) if hi > lo else 0.5)
            colour = cmap.map(1 - ys[-1], mode="qcolor")
            plot.plot(list(range(len(ys))), ys, pen=pg.mkPen(colour, width=2))
            marks.append((len(ys) - 1, ys[-1], t.run_id))
        names = [path for path, *_ in axes] + [objective]
        plot.getAxis("bottom").setTicks([list(enumerate(names))])
        for k, (_path, values, numeric, log) in enumerate(axes):
            plot.addItem(pg.InfiniteLine(pos=k, angle=90, pen=pen("#808080", 1)))
            for v in values:
                label = pg.TextItem(f"{v:g}" if isinstance(v, float) else str(v), color="#404040", anchor=(1.1, 0.5))
                label.setPos(k, self._unit(v, values, numeric, log))
                plot.addItem(label)
        plot.addItem(pg.InfiniteLine(pos=len(axes), angle=90, pen=pen("#808080", 1)))
        for y, text in ((0.0, f"{lo:.3g}"), (1.0, f"{hi:.3g}")):
            label = pg.TextItem(text, color="#404040", anchor=(-0.1, 0.5))
            label.setPos(len(axes), y)
            plot.addItem(label)
        plot.hideAxis("left")
        self._scatter(plot, marks)

    @staticmethod
    def _unit(v, values: list, numeric: bool, log: bool) -> float:
        """A value's place on its axis, 0 to 1."""
        if not numeric:
            return values.index(v) / max(len(values) - 1, 1)
        lo, hi = values[0], values[-1]
        if log:
            v, lo, hi = math.log10(v), math.log10(lo), math.log10(hi)
        return (v - lo) / (hi - lo) if hi > lo else 0.5



