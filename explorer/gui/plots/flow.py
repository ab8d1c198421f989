"""Gradient flow through time: ‖∂L/∂h_t‖ as a heatmap (time step t × training step).

Each row is one measurement (every ``flow_every`` steps); colour is log10 of the norm, so
vanishing gradients show as a dark band towards early t, exploding ones as a bright one.
The latest row is also drawn as a curve beneath.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..run_data import RunData
from .base import TimedPaint, cache_axes, pen


class FlowPlot(TimedPaint, pg.GraphicsLayoutWidget):
    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.setMinimumHeight(200)
        self.map = self.addPlot(row=0, col=0, title="<span style='font-size:10pt'>Gradient flow "
                                "log10 ‖∂L/∂h_t‖ (rows: training steps)</span>")
        self.map.setLabel("bottom", "time step t")
        self.map.setLabel("left", "training step")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.map.addItem(self.image)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), width=12, interactive=False)
        self.bar.setImageItem(self.image, insert_in=self.map)
        self.last = self.addPlot(row=1, col=0, title="<span style='font-size:10pt'>latest measurement</span>")
        self.last.setLabel("bottom", "time step t")
        self.last.setLabel("left", "log10 ‖∂L/∂h_t‖")
        self.last.showGrid(x=True, y=True, alpha=0.15)
        self.last.setXLink(self.map)
        self.curve = self.last.plot(pen=pen("#1f77b4", 1.5), connect="finite")
        cache_axes(self.map)
        cache_axes(self.last)
        self.ci.layout.setRowStretchFactor(0, 3)
        self.ci.layout.setRowStretchFactor(1, 2)
        self._seen = None
        self.empty = pg.TextItem("no gradient-flow data yet: the scan backend measures it every "
                                 "'Gradient flow every' steps", color="#808080", anchor=(0.5, 0.5))
        self.map.addItem(self.empty, ignoreBounds=True)

    def set_extent(self, total: int | None) -> None:
        """Rows span training steps 0..total (the y axis stays put while rows arrive)."""
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
        height = max(last - first, 1.0)
        # place rows at their training steps: row i spans [step_i, step_i + height / rows)
        self.image.setRect(pg.QtCore.QRectF(-0.5, first, grid.width, height + height / max(grid.size - 1, 1)))
        row = logs[-1]
        t = np.arange(len(row))
        keep = np.isfinite(row)
        self.curve.setData(t[keep], row[keep])
