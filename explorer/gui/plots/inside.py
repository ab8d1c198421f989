"""Seeing inside the model on the probe sequence, live (source 000's "how many hidden units are
needed?" answered by looking at what they do).

Six panes, from the probe reports' :class:`explorer.core.lab.inside.Inside` (computed on the
training thread as numpy; drawn here only when a new probe arrived):

    hidden units x time     gates x time (GRU, LSTM)        PCA trajectory of h_t
    eigenvalues of W_hh     spectral radius over training   gate saturation over training

Units (and the gates' rows with them) are sorted by their variance over the probe when
"sort units by variance" is ticked, so the few busy units come first and the idle ones sink.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from explorer.core.lab.inside import GATES, SATURATED, SIGMOID_GATES

from ..run_data import RunData
from .base import Enlargeable, TimedPaint, WheelScrolls, cache_axes, key_html, pen, plain_axes

PANE_BUDGET_S = 0.008  # drawing time per frame for this tab (a new probe's six panes spread over frames)
TIME_SHADES = 8  # the PCA points' colours by time


def _TIME_BRUSHES(cache=[]):  # noqa: N802, B006 - made once, on first use (needs a QApplication)
    if not cache:
        cache.extend(pg.mkBrush(c) for c in pg.colormap.get("viridis").map(np.linspace(0, 1, TIME_SHADES), mode="qcolor"))
    return cache


EMPTY = "nothing measured yet:\nthe probe runs every\n'Probe every' steps"
RECURRENT_NAME = {"vanilla": "W_hh", "relu": "W_hh", "gru": "W_hn", "lstm": "W_hg"}  # GRU: candidate block; LSTM: cell input
CUSTOM_RECURRENT = "the recurrence"  # the cell's H x H parameter, or its diagonal one


def _small(text: str) -> str:
    return f"<span style='font-size:9pt'>{text}</span>"


def _coarse(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi] widened by a tenth and rounded out to a step of 1, 2 or 5 times a power of ten."""
    span = hi - lo or abs(hi) or 1.0
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    step = 10 ** np.floor(np.log10(span / 5))
    for k in (1, 2, 5, 10):
        if span / (k * step) <= 10:
            step *= k
            break
    return float(np.floor(lo / step) * step), float(np.ceil(hi / step) * step)


def fit(plot, x: np.ndarray | None = None, y: np.ndarray | None = None) -> None:
    """Range a pane over the finite values given, in coarse jumps: only when the data leaves
    the view or fills under a third of it, so a new probe rarely moves the axes (whose
    repainting was most of this tab's cost)."""
    vb = plot.vb
    vb.disableAutoRange()
    for axis, values in ((0, x), (1, y)):
        if values is None:
            continue
        values = np.asarray(values, float)
        values = values[np.isfinite(values)]
        if not values.size:
            continue
        lo, hi = float(values.min()), float(values.max())
        r0, r1 = vb.viewRange()[axis]
        if r0 <= lo and hi <= r1 and (hi - lo) >= (r1 - r0) / 3:
            continue
        a, b = _coarse(lo, hi)
        (vb.setXRange if axis == 0 else vb.setYRange)(a, b, padding=0)


class _Pane(WheelScrolls, Enlargeable, TimedPaint, pg.PlotWidget):
    """One of the six plots: its own widget, so a long title or a colour bar never starves the
    others (one GraphicsLayout's columns follow their widest title)."""

    enlarge_requested = Signal()

    def __init__(self, title: str):
        super().__init__()
        self.setMinimumSize(120, 110)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setToolTip("Double-click to enlarge (Esc returns); Ctrl+wheel zooms")
        self.getPlotItem().setTitle(_small(title))


class InsideView(QWidget):
    """The six panes and their one control; the lab's plot panel shows it in its "Inside" tab."""

    enlarge_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = "Inside the model (probe sequence)"
        self.cell = ""  # the model's cell: which recurrent matrix the eigenvalues are of
        self.sort_units = QCheckBox("sort units by variance")
        self.sort_units.setChecked(True)
        self.sort_units.setToolTip("Busiest units (highest variance over the probe) first; "
                                   "untick for the units in their own order")
        self.sort_units.toggled.connect(lambda _: self._redraw())
        self.note = QLabel()
        self.note.setStyleSheet("color: #404040;")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(self.sort_units)
        bar.addWidget(self.note, 1)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addLayout(bar)
        box.addLayout(self.grid, 1)
        self.setMinimumHeight(260)
        self._build()
        self._seen = None
        self._todo: list = []  # panes still to draw for the latest probe (a few per frame)
        self._next_pane = 0  # which pane a new plan starts with (the one after the last drawn)

    def _pane(self, row: int, col: int, title: str):
        widget = _Pane(title)
        widget.enlarge_requested.connect(self.enlarge_requested)
        self.grid.addWidget(widget, row, col)
        return widget.getPlotItem()

    # -- panes ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.units_plot = self._pane(0, 0, "hidden units × time")
        self.units_plot.setLabel("bottom", "time step t")
        self.units_plot.setLabel("left", "unit")
        self.units_image = pg.ImageItem(axisOrder="row-major")
        self.units_plot.addItem(self.units_image)
        self.units_bar = pg.ColorBarItem(colorMap=pg.colormap.get("CET-D1"), width=10, interactive=False,
                                         values=(-1, 1), label="h")
        self.units_bar.setImageItem(self.units_image, insert_in=self.units_plot)

        self.gates_plot = self._pane(0, 1, "gates × time")
        self.gates_plot.setLabel("bottom", "time step t")
        self.gates_image = pg.ImageItem(axisOrder="row-major")
        self.gates_plot.addItem(self.gates_image)
        self.gates_bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), width=10, interactive=False,
                                         values=(0, 1))  # sigmoid gates as they are; tanh gates' -1..1 as 0..1
        self.gates_bar.setImageItem(self.gates_image, insert_in=self.gates_plot)
        self.gate_lines: list[pg.InfiniteLine] = []

        self.pca_plot = self._pane(0, 2, "PCA of h_t")
        self.pca_path = self.pca_plot.plot(pen=pen("#b0b0b0", 1))
        self.pca_points = pg.ScatterPlotItem(size=5, pen=None)
        self.pca_plot.addItem(self.pca_points)
        self.pca_start = self.pca_plot.plot(pen=None, symbol="star", symbolSize=12, symbolBrush="#303030",
                                            symbolPen=None)
        self.pca_key = pg.LabelItem(key_html([("t = 0", "#303030", "★"), ("dark = early", "#21918c", "●")]),
                                    justify="left", size="8pt")
        self.pca_plot.layout.addItem(self.pca_key, 2, 3)

        self.eig_plot = self._pane(1, 0, "eigenvalues")
        self.eig_plot.setLabel("bottom", "real")
        self.eig_plot.setLabel("left", "imaginary")
        self.eig_plot.setAspectLocked(True)
        angle = np.linspace(0, 2 * np.pi, 181)
        self.eig_plot.plot(np.cos(angle), np.sin(angle), pen=pen("#909090", 1, style=Qt.PenStyle.DashLine))
        self.eig_points = self.eig_plot.plot(pen=None, symbol="o", symbolSize=6, symbolBrush="#d62728",
                                             symbolPen=None)

        self.radius_plot = self._pane(1, 1, "spectral radius over training")
        self.radius_plot.setLabel("bottom", "training step")
        self.radius_plot.addLine(y=1.0, pen=pen("#909090", 1, style=Qt.PenStyle.DashLine))
        self.radius_curve = self.radius_plot.plot(pen=pen("#d62728", 1.5), symbol="o", symbolSize=4,
                                                  symbolBrush="#d62728", symbolPen=None)

        self.sat_plot = self._pane(1, 2, "gate saturation over training")
        self.sat_plot.setLabel("bottom", "training step")
        self.sat_plot.setLabel("left", "share")
        self.sat_plot.setToolTip(f"the share of sigmoid-gate values under {SATURATED[0]} or over {SATURATED[1]}")
        self.sat_plot.setYRange(0, 1, padding=0.02)
        self.sat_curve = self.sat_plot.plot(pen=pen("#1f77b4", 1.5), symbol="o", symbolSize=4,
                                            symbolBrush="#1f77b4", symbolPen=None)

        self.panes = (self.units_plot, self.gates_plot, self.pca_plot, self.eig_plot, self.radius_plot,
                      self.sat_plot)
        self.placeholders = {}
        for p in self.panes:
            p.showGrid(x=True, y=True, alpha=0.12)
            cache_axes(p)
            plain_axes(p)
            text = pg.TextItem("", color="#707070", anchor=(0.5, 0.5))
            p.addItem(text, ignoreBounds=True)
            self.placeholders[p] = text
            p.vb.sigRangeChanged.connect(lambda *_, p=p: self._centre(p))
        for bar in (self.units_bar, self.gates_bar):
            for side in ("left", "right"):
                bar.getAxis(side).enableAutoSIPrefix(False)
        for p in (self.units_plot, self.gates_plot):
            p.invertY(True)  # row 0 (the busiest unit, the first gate) on top
        self.grid.setRowStretch(0, 3)
        self.grid.setRowStretch(1, 2)
        for col, stretch in enumerate((4, 4, 3)):  # the heatmaps widest
            self.grid.setColumnStretch(col, stretch)
        self._placeholder_all(EMPTY)

    def _centre(self, plot) -> None:
        (x0, x1), (y0, y1) = plot.vb.viewRange()
        self.placeholders[plot].setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def _placeholder(self, plot, text: str) -> None:
        item = self.placeholders[plot]
        item.setText(text)
        item.setVisible(bool(text))
        self._centre(plot)

    def _placeholder_all(self, text: str) -> None:
        for p in self.panes:
            self._placeholder(p, text)

    # -- the panel's protocol -----------------------------------------------------------------------
    def set_cell(self, cell: str) -> None:
        self.cell = cell
        self._seen = None

    def reset_view(self) -> None:
        for p in self.panes:
            p.enableAutoRange()
        self.sat_plot.setYRange(0, 1, padding=0.02)
        self._seen = None

    def hide_readout(self) -> None:
        """Nothing to hide: these panes have no readout."""

    def refresh(self, data: RunData, force: bool = False) -> None:
        """A new probe marks every pane; each call then draws panes for at most ``PANE_BUDGET_S``
        (at least one), so a frame never stalls the window on all six (``force``: all at once)."""
        version = (data.probe_version, data.generation)
        if not (self.isVisible() or force):  # a hidden tab draws when it is shown
            return
        if version != self._seen:
            self._seen = version
            self._data = data
            self._plan()
        start = time.perf_counter()
        while self._todo:
            self._todo.pop(0)()
            if not force and time.perf_counter() - start >= PANE_BUDGET_S:
                break

    def up_to_date(self, data: RunData) -> bool:
        """Every pane shows ``data``'s latest probe."""
        return self._seen == (data.probe_version, data.generation) and not self._todo

    def _plan(self) -> None:
        """The panes to draw for the data now held (or the placeholders when none), starting at
        the pane after the last one drawn: probes can come faster than frames, and a plan that
        always began with the units would never reach the eigenvalues."""
        data = getattr(self, "_data", None)
        inside = data.inside if data is not None else None
        if inside is None:
            self._todo = [self._clear]
            return
        order = lambda: inside.order if self.sort_units.isChecked() else np.arange(inside.units.shape[0])  # noqa: E731
        panes = [lambda: self._draw_units(inside, order()), lambda: self._draw_gates(inside, order()),
                 lambda: self._draw_pca(inside), lambda: self._draw_eigen(data),
                 lambda: self._draw_history(data, inside)]
        k = self._next_pane % len(panes)
        self._todo = [self._counted(p) for p in panes[k:] + panes[:k]]

    def _counted(self, draw):
        def run():
            draw()
            self._next_pane += 1
        return run

    def _redraw(self) -> None:
        """Everything now (the sort toggle, an export)."""
        self._plan()
        while self._todo:
            self._todo.pop(0)()

    def _clear(self) -> None:
        for item in (self.units_image, self.gates_image):
            item.clear()
        for item in (self.pca_path, self.pca_start, self.eig_points, self.radius_curve, self.sat_curve):
            item.setData([], [])
        self.pca_points.setData([], [])
        self._clear_gate_lines()
        self.note.setText("")
        self._placeholder_all(EMPTY)

    def _draw_units(self, inside, order) -> None:
        self._placeholder(self.units_plot, "")
        units = inside.units[order]  # (H, T)
        H, T = units.shape
        top = float(np.nanmax(np.abs(units))) if units.size else 1.0
        top = top if np.isfinite(top) and top > 0 else 1.0
        self.units_bar.setLevels((-top, top))
        self.units_image.setImage(units, autoLevels=False)
        self.units_image.setRect(QRectF(-0.5, -0.5, T, H))
        fit(self.units_plot, [-0.5, T - 0.5], [-0.5, H - 0.5])
        self.units_plot.setLabel("left", "unit (busiest on top)" if self.sort_units.isChecked() else "unit")
        busy = int(np.sum(inside.units.var(axis=1) > 1e-3 * max(inside.units.var(axis=1).max(), 1e-30)))
        self.note.setText(f"{busy} of {H} units vary over the probe (variance above 1/1000 of the busiest)")

    def _clear_gate_lines(self) -> None:
        for line in self.gate_lines:
            self.gates_plot.removeItem(line)
        self.gate_lines = []

    def _draw_gates(self, inside, order) -> None:
        self._placeholder(self.gates_plot, "")
        self._clear_gate_lines()
        if inside.gates is None:
            self.gates_image.clear()
            self.gates_plot.getAxis("left").setTicks(None)
            self._placeholder(self.gates_plot, "gates: GRU and LSTM\n(this cell has none)")
            self.gates_plot.setTitle(_small("gates × time"))
            return
        names = GATES.get(self.cell) or tuple(inside.gates)
        blocks = []
        for name in names:
            g = inside.gates[name][order]  # (H, T)
            blocks.append(g if name in SIGMOID_GATES.get(self.cell, ()) else (g + 1.0) / 2.0)  # tanh: -1..1 -> 0..1
        image = np.vstack(blocks)  # (G*H, T)
        H, T = blocks[0].shape
        self.gates_image.setImage(image, autoLevels=False, levels=(0.0, 1.0))
        self.gates_image.setRect(QRectF(-0.5, -0.5, T, len(blocks) * H))
        fit(self.gates_plot, [-0.5, T - 0.5], [-0.5, len(blocks) * H - 0.5])
        self.gates_plot.getAxis("left").setTicks([[((k + 0.5) * H - 0.5, name) for k, name in enumerate(names)]])
        for k in range(1, len(blocks)):
            line = pg.InfiniteLine(pos=k * H - 0.5, angle=0, pen=pen("#ffffff", 2))
            self.gates_plot.addItem(line, ignoreBounds=True)
            self.gate_lines.append(line)
        sat = "" if inside.saturation is None else f": {100 * inside.saturation:.0f}% saturated"
        self.gates_plot.setTitle(_small(f"gates × time{sat}"))
        self.gates_plot.getViewWidget().setToolTip(f"gates: sigmoid gates 0…1 as they are, tanh gates ({', '.join(sorted(set(names) - set(SIGMOID_GATES.get(self.cell, ()))))}) "
                             f"from -1…1 to 0…1; saturated: under {SATURATED[0]} or over {SATURATED[1]}. "
                             "Double-click to enlarge (Esc returns); Ctrl+wheel zooms")

    def _draw_pca(self, inside) -> None:
        self._placeholder(self.pca_plot, "")
        proj = inside.pca  # (T, 2)
        T = proj.shape[0]
        shade = np.minimum((np.arange(T) * TIME_SHADES) // max(T, 1), TIME_SHADES - 1)  # a few shades:
        self.pca_path.setData(proj[:, 0], proj[:, 1])  # each distinct brush renders its own symbol
        self.pca_points.setData(proj[:, 0], proj[:, 1], brush=[_TIME_BRUSHES()[k] for k in shade])
        self.pca_start.setData(proj[:1, 0], proj[:1, 1])
        fit(self.pca_plot, proj[:, 0], proj[:, 1])
        a, b = (100 * inside.pca_explained).tolist()
        self.pca_plot.setLabel("bottom", f"PC1 ({a:.0f}%)")
        self.pca_plot.setLabel("left", f"PC2 ({b:.0f}%)")

    def _draw_eigen(self, data: RunData) -> None:
        self._placeholder(self.eig_plot, "")
        which = RECURRENT_NAME.get(self.cell, CUSTOM_RECURRENT)
        if data.eigen is None:
            self.eig_points.setData([], [])
            self._placeholder(self.eig_plot, "no recurrent matrix\nfound in this cell" if self.cell == "custom"
                              else "not measured yet")
            self.eig_plot.setTitle(_small(f"eigenvalues of {which}"))
            return
        step, values, radius = data.eigen
        self.eig_points.setData(values.real, values.imag)
        reach = max(1.1, 1.1 * float(np.abs(values).max()))  # the unit circle always in view
        fit(self.eig_plot, [-reach, reach], [-reach, reach])
        self.eig_plot.setTitle(_small(f"eigenvalues of {which}: radius {radius:.3g}"))
        self.eig_plot.getViewWidget().setToolTip(
            f"eigenvalues of {which} measured at step {step:,} (GRU: the candidate block W_hn; LSTM: the cell-input "
            "block W_hg), with the unit circle; spectral radius = the largest |eigenvalue|")

    def _draw_history(self, data: RunData, inside) -> None:
        for plot in (self.radius_plot, self.sat_plot):
            self._placeholder(plot, "")
        h = data.inside_history
        steps, radius, sat = h["step"], h["spectral_radius"], h["saturation"]
        keep = np.isfinite(radius)
        self.radius_curve.setData(steps[keep], radius[keep])
        if keep.any():
            fit(self.radius_plot, steps[keep], np.r_[radius[keep], 1.0])  # the line at 1 in view
        if not keep.any():
            self._placeholder(self.radius_plot, "not measured yet" if self.cell != "custom"
                              else "no recurrent matrix\nfound in this cell")
        keep = np.isfinite(sat)
        self.sat_curve.setData(steps[keep], sat[keep])
        if keep.any():
            fit(self.sat_plot, steps[keep])
        if not keep.any():
            self._placeholder(self.sat_plot, "gates: GRU and LSTM\n(this cell has none)")
