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
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QGraphicsItem

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


def plain_axes(plot_item: pg.PlotItem) -> None:
    """No SI-prefix scaling on any axis: it garbles log axes ("x1e+15") and turns an empty
    plot's -0.5..0.5 into "-400..400 (x0.001)"."""
    for axis in plot_item.axes.values():
        axis["item"].enableAutoSIPrefix(False)


class WheelScrolls:
    """Mixin for pyqtgraph views: the mouse wheel scrolls the panel the plot sits in; with
    Ctrl held it zooms the plot (as pyqtgraph does by default)."""

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)
            return
        area = self.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is None:
            event.ignore()
            return
        QApplication.sendEvent(area.verticalScrollBar(), event)  # the panel scrolls
        event.accept()


class Enlargeable:
    """Mixin: a double-click asks the panel to show this plot big (``enlarge_requested``)."""

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.enlarge_requested.emit()
        event.accept()


def key_html(entries: list[tuple[str, str, str]]) -> str:
    """A legend as text: one line per (name, colour, glyph)."""
    return "<br>".join(f"<span style='color:{color}'>{glyph}</span>&nbsp;{name}" for name, color, glyph in entries)


def pen(color: str, width: float = 1.5, alpha: int = 255, style=Qt.PenStyle.SolidLine):
    c = pg.mkColor(color)
    c.setAlpha(alpha)
    return pg.mkPen(c, width=width, style=style)


class LogFriendlyAxis(pg.AxisItem):
    """A left axis whose log-mode labels never stack up: every decade is labelled, the 2s
    and 5s between only when the view spans two decades or less, the other minor ticks
    never (pyqtgraph labels them all, "6·10¹⁸ 7·10¹⁸ 8·10¹⁸ 9·10¹⁸" in a few pixels)."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        strings = super().tickStrings(values, scale, spacing)
        if not self.logMode or not values:
            return strings
        lo, hi = self.range
        decades = abs(hi - lo)
        keep = (1, 2, 5) if decades <= 2 else (1,)
        out = []
        for text, value in zip(strings, values):
            mantissa = round(10 ** (value - np.floor(value + 1e-9)))
            out.append(text if mantissa in keep else "")
        return out


class LivePlot(WheelScrolls, Enlargeable, TimedPaint, pg.PlotWidget):
    """A titled plot with its key beside the data (never over it) and a readout of the
    curves at the step under the mouse, shown at the cursor and hidden when it leaves."""

    enlarge_requested = Signal()

    def __init__(self, title: str, left: str, bottom: str = "training step", parent=None):
        super().__init__(parent=parent, axisItems={"left": LogFriendlyAxis("left")})
        self.setMinimumHeight(150)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click takes focus from the last field
        self.setToolTip("Double-click to enlarge (Esc returns); Ctrl+wheel zooms")
        self.title = title
        item = self.getPlotItem()
        item.setTitle(f"<span style='font-size:10pt'>{title}</span>")
        item.setLabel("left", left)
        item.setLabel("bottom", bottom)
        item.showGrid(x=True, y=True, alpha=0.15)
        plain_axes(item)
        self.key = pg.LabelItem(justify="left", size="8pt")  # the legend, right of the view
        item.layout.addItem(self.key, 2, 3)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._overlay_key: list[tuple[str, str, str]] = []  # the Runs panel's overlaid runs
        self._seen = None  # the buffer version(s) last drawn
        self._vline = pg.InfiniteLine(angle=90, pen=pen("#909090", 1, style=Qt.PenStyle.DashLine))
        self._readout = pg.TextItem(anchor=(0, 1), color="#202020", fill=pg.mkBrush(255, 255, 255, 225),
                                    border=pg.mkPen("#b0b0b0"))
        for it in (self._vline, self._readout):
            it.setZValue(100)
            it.hide()
            item.addItem(it, ignoreBounds=True)
        self.scene().sigMouseMoved.connect(self._hover)
        cache_axes(item)
        item.enableAutoRange(y=False)
        self._user_y = False  # the user zoomed or panned: leave the y range alone
        self._force_fit = False  # refit even if the data still fits (log toggled, view reset)
        item.vb.sigRangeChangedManually.connect(self._user_moved)
        item.autoBtn.clicked.connect(self.reset_view)
        self._x_extent: float | None = None
        self.overlay = None  # saved runs drawn here too (explorer.gui.runs.overlay): kept in view

    def curve(self, key: str, name: str | None, color: str, width: float = 1.5, alpha: int = 255,
              style=Qt.PenStyle.SolidLine, symbol: str | None = None) -> pg.PlotDataItem:
        """Create (once) the curve ``key``."""
        item = self._make_curve(name, color, width, alpha, style, symbol)
        self._curves[key] = item
        self._update_key()
        return item

    def _make_curve(self, name, color, width, alpha, style, symbol) -> pg.PlotDataItem:
        item = pg.PlotDataItem(name=name, pen=pen(color, width, alpha, style), symbol=symbol,
                               symbolSize=5, symbolBrush=color, symbolPen=None, connect="finite")
        item.key_colour, item.key_glyph = color, "●" if symbol else ("┄┄" if style != Qt.PenStyle.SolidLine else "━━")
        self.addItem(item)
        # after addItem, which applies the plot's own (off) settings: downsample for the eye only
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        return item

    def remove_curve(self, key: str) -> None:
        item = self._curves.pop(key, None)
        if item is not None:
            self.removeItem(item)
            self._update_key()

    def _update_key(self) -> None:
        entries = [(c.name(), c.key_colour, c.key_glyph) for c in self._curves.values() if c.name()]
        self.key.setText(key_html(entries + self.extra_key() + self._overlay_key))

    def set_overlay_key(self, entries: list[tuple[str, str, str]]) -> None:
        """Key lines for other runs drawn here (the Runs panel's overlay), below this run's."""
        self._overlay_key = list(entries)
        self._update_key()

    def extra_key(self) -> list[tuple[str, str, str]]:
        """More key lines (reference lines); none by default."""
        return []

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

    def reset_view(self) -> None:
        """Back to the plot's own ranges (the run's x extent, y fitted to the data): what
        pyqtgraph's "A" button and the panel's "Reset view" do."""
        self._user_y = False
        self._force_fit = True
        self.getPlotItem().enableAutoRange(y=False)
        if self._x_extent:
            self.set_x_extent(self._x_extent)
        else:
            self.enableAutoRange(x=True)
        self._seen = None  # refit on the next refresh

    _auto_clicked = reset_view  # the old name

    def clear_data(self) -> None:
        for item in self._curves.values():
            item.setData([], [])
        self.hide_readout()
        self._seen = None

    def needs(self, version) -> bool:
        """True once per new buffer version (any comparable token): the caller then redraws."""
        if version == self._seen:
            return False
        self._seen = version
        return True

    # -- the readout ------------------------------------------------------------------------------
    def hide_readout(self) -> None:
        self._vline.hide()
        self._readout.hide()

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.hide_readout()
        super().leaveEvent(event)

    def _hover(self, pos) -> None:
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(pos):
            self.hide_readout()
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
                nearest.append((item.name() or self.title, x[i], y[i]))
        if not nearest:
            self.hide_readout()
            return
        step = min(nearest, key=lambda n: abs(n[1] - point.x()))[1]
        lines = [f"{name} {y:.5g}" + ("" if x == step else f" (step {x:.0f})") for name, x, y in nearest]
        self._vline.setPos(step)
        self._readout.setText(f"step {step:.0f}\n" + "\n".join(lines))
        # at the cursor, on the side that keeps it inside the view
        (x0, x1), (y0, y1) = vb.viewRange()
        right = point.x() > (x0 + x1) / 2
        upper = point.y() > (y0 + y1) / 2
        self._readout.setAnchor((1.05 if right else -0.05, -0.05 if upper else 1.05))
        self._readout.setPos(point.x(), point.y())
        self._vline.show()
        self._readout.show()
        self._readout.updateTransform(force=True)  # a hidden TextItem missed the view's changes
