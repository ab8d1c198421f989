"""Gradient flow through time: ‖∂L/∂h_t‖ as a heatmap (time step t × training step).

Each row is one measurement (every ``flow_every`` steps); colour is log10 of the norm, so
vanishing gradients show as a dark band towards early t, exploding ones as a bright one.
The latest row is also drawn as a curve beneath.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ..run_data import RunData
from .base import Enlargeable, TimedPaint, WheelScrolls, cache_axes, pen, plain_axes

UNITS = "log10 ‖∂L/∂h_t‖"
EMPTY = "no gradient flow yet:\nmeasured every 'Gradient flow every'\nsteps (scan backend)"


class FlowPlot(WheelScrolls, Enlargeable, TimedPaint, pg.GraphicsLayoutWidget):
    enlarge_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.title = "Gradient flow"
        self.setMinimumHeight(200)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setToolTip("Double-click to enlarge (Esc returns); Ctrl+wheel zooms")
        self.map = self.addPlot(row=0, col=0, title="<span style='font-size:10pt'>Gradient flow through time: "
                                "‖∂L/∂h_t‖ per row</span>")
        self.map.setLabel("bottom", "time step t")
        self.map.setLabel("left", "training step")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.map.addItem(self.image)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), width=14, interactive=False,
                                   label=UNITS, values=(-3, 0))
        self.bar.setImageItem(self.image, insert_in=self.map)
        for side in ("left", "right"):
            self.bar.getAxis(side).enableAutoSIPrefix(False)
        self.last = self.addPlot(row=0, col=1, title="<span style='font-size:10pt'>latest measurement</span>")
        self.last.setLabel("bottom", "time step t")
        self.last.setLabel("left", UNITS)
        self.last.showGrid(x=True, y=True, alpha=0.15)
        self.last.setXLink(self.map)
        self.curve = self.last.plot(pen=pen("#1f77b4", 1.5), connect="finite")
        for p in (self.map, self.last):
            cache_axes(p)
            plain_axes(p)
        self.ci.layout.setColumnStretchFactor(0, 3)
        self.ci.layout.setColumnStretchFactor(1, 2)
        self._seen = None
        self._total: int | None = None  # the run's length in training steps
        self.map.setRange(xRange=(0, 10), yRange=(0, 100), padding=0)  # empty: plain axes, not -0.5..0.5
        self.last.setYRange(-3, 0, padding=0)
        self.empty = pg.TextItem(EMPTY, color="#707070", anchor=(0.5, 0.5))
        self.map.addItem(self.empty, ignoreBounds=True)
        self.map.vb.sigRangeChanged.connect(self._centre_placeholder)
        self._centre_placeholder()

    def _centre_placeholder(self, *_) -> None:
        (x0, x1), (y0, y1) = self.map.vb.viewRange()
        self.empty.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def reset_view(self) -> None:
        self.map.enableAutoRange()
        self.last.enableAutoRange()
        self._seen = None

    def hide_readout(self) -> None:
        """Nothing to hide: the heatmap has no readout."""

    def set_extent(self, total: int | None) -> None:
        """Rows span training steps 0..total (the y axis stays put while rows arrive)."""
        self._total = total
        if total:
            self.map.setYRange(0, total, padding=0.01)
        else:
            self.map.enableAutoRange(y=True)

    def refresh(self, data: RunData) -> None:
        grid = data.flow
        if grid.version == self._seen:
            return
        self._seen = grid.version
        if grid.size == 0:
            self.image.clear()
            self.curve.setData([], [])
            self.empty.show()
            self._centre_placeholder()
            return
        self.empty.hide()
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(grid.image)  # (rows, T)
        finite = logs[np.isfinite(logs)]
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            self.bar.setLevels((lo, hi if hi > lo else lo + 1))
        self.image.setImage(np.where(np.isfinite(logs), logs, np.nan), autoLevels=False)
        first, last = grid.steps[0], grid.steps[grid.size - 1]
        # place rows at their training steps: row i spans [step_i, step_i + gap); one row
        # alone gets a 50th of the run's length, so it shows as a band, not a hairline
        gap = (last - first) / (grid.size - 1) if grid.size > 1 else max((self._total or 50) / 50, 1.0)
        self.image.setRect(pg.QtCore.QRectF(-0.5, first, grid.width, last - first + gap))
        row = logs[-1]
        t = np.arange(len(row))
        keep = np.isfinite(row)
        self.curve.setData(t[keep], row[keep])
