"""What every live plot shares: style, curves made once, a hover crosshair, redraw on demand.

A plot is a ``pg.PlotWidget`` whose items are created in ``__init__`` and updated with
``setData`` from the buffers when :meth:`refresh` sees new data (the window calls
``refresh`` from one ~30 Hz timer). Curves downsample (peak) and clip to the view for the
eye only; the buffers keep every point.

Drawing cost: pyqtgraph re-renders an axis (its tick text, ~2 ms here) whenever the view
range moves, and an auto-ranged live plot moves it every frame. So axes get a pixmap cache,
the x axis spans the whole run from the start (``set_x_extent``), and the y axis is
re-ranged in coarse jumps (``fit_y``) instead of creeping: a frame of every live plot went
from ~60 ms to ~15 ms.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

# one QPainterPath per curve: half the paint time of drawLines segments here (measured)
pg.setConfigOptions(background="w", foreground="#303030", antialias=False, segmentedLineMode="off")

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf"]


class PaintClock:
    """Seconds spent painting, summed over every plot that reports to it."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def take(self) -> float:
        spent, self.seconds = self.seconds, 0.0
        return spent


CLOCK = PaintClock()


class TimedPaint:
    """Mixin for pyqtgraph views: adds the time of each paint to :data:`CLOCK`."""

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        start = time.perf_counter()
        super().paintEvent(event)
        CLOCK.seconds += time.perf_counter() - start


def cache_axes(plot_item: pg.PlotItem) -> None:
    """Keep each axis as a pixmap, redrawn only when its ticks change."""
    for axis in plot_item.axes.values():
        axis["item"].setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def pen(color: str, width: float = 1.5, alpha: int = 255, style=Qt.PenStyle.SolidLine):
    c = pg.mkColor(color)
    c.setAlpha(alpha)
    return pg.mkPen(c, width=width, style=style)


class LivePlot(TimedPaint, pg.PlotWidget):
    """A titled plot with a legend and a crosshair that reads out the curves under the mouse."""

    def __init__(self, title: str, left: str, bottom: str = "training step", parent=None):
        super().__init__(parent=parent)
        self.setMinimumHeight(150)
        item = self.getPlotItem()
        item.setTitle(f"<span style='font-size:10pt'>{title}</span>")
        item.setLabel("left", left)
        item.setLabel("bottom", bottom)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.getAxis("left").enableAutoSIPrefix(False)  # its scaling garbles log axes ("x1e+15")
        self.legend = item.addLegend(offset=(-5, 5), labelTextSize="8pt", verSpacing=-6,
                                     brush=pg.mkBrush(255, 255, 255, 170))
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._seen = None  # the buffer version(s) last drawn
        self._vline = pg.InfiniteLine(angle=90, pen=pen("#909090", 1, style=Qt.PenStyle.DashLine))
        self._readout = pg.TextItem(anchor=(0, 1), color="#202020", fill=pg.mkBrush(255, 255, 255, 210))
        for it in (self._vline, self._readout):
            it.setZValue(100)
            it.hide()
            item.addItem(it, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._hover)
        cache_axes(item)
        item.enableAutoRange(y=False)
        self._user_y = False  # the user zoomed or panned: leave the y range alone
        self._force_fit = False  # refit even if the data still fits (log toggled, "A" pressed)
        item.vb.sigRangeChangedManually.connect(self._user_moved)
        item.autoBtn.clicked.connect(self._auto_clicked)
        self._x_extent: float | None = None
        self.overlay = None  # saved runs drawn here too (explorer.gui.runs.overlay): kept in view

    def curve(self, key: str, name: str | None, color: str, width: float = 1.5, alpha: int = 255,
              style=Qt.PenStyle.SolidLine, symbol: str | None = None) -> pg.PlotDataItem:
        """Create (once) the curve ``key``."""
        item = pg.PlotDataItem(name=name, pen=pen(color, width, alpha, style), symbol=symbol,
                               symbolSize=5, symbolBrush=color, symbolPen=None, connect="finite")
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        self.addItem(item)
        self._curves[key] = item
        return item

    def set_log_y(self, on: bool) -> None:
        self.getPlotItem().setLogMode(y=on)
        self._force_fit = True  # the view's coordinates changed: refit on the next refresh
        self._seen = None

    # -- ranges -------------------------------------------------------------------------------
    def set_x_extent(self, total: float | None) -> None:
        """Show x from 0 to ``total`` (the run's length) so the x axis stays put; None: auto."""
        self._x_extent = total
        if self.overlay is not None:
            total = self.overlay.x_extent(total)
        if total:
            self.setXRange(0, total, padding=0.01)
        else:
            self.enableAutoRange(x=True)

    def fit_y(self, *arrays) -> None:
        """Range y over the finite values of ``arrays``, in coarse jumps: only when the data
        leaves the view or uses less than a third of it."""
        if self._user_y:
            return
        if self.overlay is not None:
            arrays = (*arrays, *self.overlay.y_arrays())
        log = self.getPlotItem().ctrl.logYCheck.isChecked()
        parts = [a[np.isfinite(a) & (a > 0)] if log else a[np.isfinite(a)] for a in arrays]
        parts = [p for p in parts if p.size]
        if not parts:
            return
        lo, hi = min(float(p.min()) for p in parts), max(float(p.max()) for p in parts)
        if log:
            lo, hi = np.log10(lo), np.log10(hi)
        r0, r1 = self.getPlotItem().vb.viewRange()[1]
        inside = r0 <= lo and hi <= r1
        if inside and (hi - lo) >= (r1 - r0) / 3 and not self._force_fit:
            return
        self._force_fit = False
        if log:  # whole half-decades
            lo, hi = np.floor(lo * 2) / 2, np.ceil(hi * 2) / 2
            if hi - lo < 0.5:
                hi = lo + 0.5
        else:
            span = hi - lo or abs(hi) or 1.0
            lo, hi = lo - 0.1 * span, hi + 0.1 * span
        self.getPlotItem().vb.setYRange(lo, hi, padding=0)

    def _user_moved(self, *_) -> None:
        self._user_y = True

    def _auto_clicked(self) -> None:
        # pyqtgraph's "A" button auto-ranges both axes; restore ours instead
        self._user_y = False
        self._force_fit = True
        self.getPlotItem().enableAutoRange(y=False)
        if self._x_extent:
            self.set_x_extent(self._x_extent)
        self._seen = None  # refit on the next refresh

    def clear_data(self) -> None:
        for item in self._curves.values():
            item.setData([], [])
        self._seen = None

    def needs(self, version) -> bool:
        """True once per new buffer version (any comparable token): the caller then redraws."""
        if version == self._seen:
            return False
        self._seen = version
        return True

    # -- the crosshair --------------------------------------------------------------------------
    def _hover(self, pos) -> None:
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos) or not self._curves:
            self._vline.hide()
            self._readout.hide()
            return
        point = vb.mapSceneToView(pos)
        nearest = []  # (name, x, y) of each curve's point nearest the mouse
        for item in self._curves.values():
            x, y = item.getOriginalDataset()
            if x is None or len(x) == 0 or not item.isVisible():
                continue
            i = int(np.clip(np.searchsorted(x, point.x()), 0, len(x) - 1))
            if i > 0 and abs(x[i - 1] - point.x()) < abs(x[i] - point.x()):
                i -= 1
            if np.isfinite(y[i]):
                nearest.append((item.name() or "", x[i], y[i]))
        if not nearest:
            self._readout.hide()
            return
        step = min(nearest, key=lambda n: abs(n[1] - point.x()))[1]
        lines = [f"{name} {y:.5g}" + ("" if x == step else f" (step {x:.0f})") for name, x, y in nearest]
        self._vline.setPos(step)
        self._readout.setText(f"step {step:.0f}\n" + "\n".join(lines))
        y_top = vb.viewRange()[1][1]
        self._readout.setPos(point.x(), y_top)
        self._vline.show()
        self._readout.show()
