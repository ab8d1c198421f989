"""Saved runs drawn over the live plots: one colour per run, smoothed as TensorBoard does.

A :class:`PlotOverlay` adds one item (a :class:`CurveLayer`) and a legend to a live
plot's ``PlotItem`` (the plot's own curves are left alone) and tells the plot, through its
``overlay`` attribute, which values to keep in view: ``plot.fit_y`` includes
:meth:`PlotOverlay.y_arrays` and ``plot.set_x_extent`` asks :meth:`PlotOverlay.x_extent`.
Per run it draws the raw series faint and the smoothed one on top, decimated to the pixels
and clipped to the view for the eye only (every point stays in the arrays).

:class:`RunsOverlay` holds one overlay per plot (loss, gradient norm, learning rate) and
the settings they share: smoothing weight and x by step or by time.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform

from explorer.core.runs.smoothing import smooth

from ..plots.base import pen

# 20 colours that stay apart on white (tab10, then its light partners)
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
           "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"]
X_COLUMNS = {"step": "step", "time": "elapsed_s"}
X_LABELS = {"step": "training step", "time": "time in training (s)"}
RAW_SHADE = 0.3  # the raw curve behind the smoothed one: this much of the colour on white (faint, as in
#               TensorBoard; opaque: blending a translucent pen costs 5-10x the time to paint)


def pale(colour: str, amount: float = RAW_SHADE) -> str:
    """``colour`` mixed with white: what a translucent pen over the white background shows."""
    c = pg.mkColor(colour)
    mix = [round(255 - amount * (255 - v)) for v in (c.red(), c.green(), c.blue())]
    return "#{:02x}{:02x}{:02x}".format(*mix)


@dataclass(frozen=True)
class OverlayRun:
    """What the overlay draws of one run (plain data, read from the run store)."""

    id: str
    label: str  # the legend text: what differs from the baseline ("hidden 32")
    colour: str
    metrics: dict  # column name -> (n,) array: step, elapsed_s, loss, grad_norm, lr, heldout_loss...


class ColourBook:
    """A stable colour per run id: a run keeps its colour while it is shown."""

    def __init__(self) -> None:
        self._given: dict[str, str] = {}

    def colour(self, run_id: str) -> str:
        if run_id not in self._given:
            used = set(self._given.values())
            free = [c for c in COLOURS if c not in used]
            self._given[run_id] = free[0] if free else COLOURS[len(self._given) % len(COLOURS)]
        return self._given[run_id]

    def keep(self, run_ids) -> None:
        """Forget the colours of runs no longer shown (their colours become free)."""
        keep = set(run_ids)
        self._given = {k: v for k, v in self._given.items() if k in keep}


def _finite(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape:
        return np.empty(0), np.empty(0)
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def peak_decimate(x: np.ndarray, y: np.ndarray, x0: float, x1: float, columns: int):
    """The points of (x, y) inside [x0, x1] (plus one either side), cut to about
    ``2 * columns`` points: each bin's min and max, in x order (pyqtgraph's "peak")."""
    lo = max(int(np.searchsorted(x, x0)) - 1, 0)
    hi = min(int(np.searchsorted(x, x1, side="right")) + 1, len(x))
    x, y = x[lo:hi], y[lo:hi]
    ds = len(x) // max(columns, 1)
    if ds < 2:
        return x, y
    n = len(x) // ds
    xb, yb = x[: n * ds].reshape(n, ds), y[: n * ds].reshape(n, ds)
    xs = np.repeat(xb[:, 0], 2)  # (2n,)
    ys = np.stack([yb.min(axis=1), yb.max(axis=1)], axis=1).ravel()  # (2n,)
    return np.append(xs, x[n * ds:]), np.append(ys, y[n * ds:])


class CurveLayer(pg.GraphicsObject):
    """Every overlaid run's curves on one plot, painted by one item kept as an image.

    The saved runs do not change while the live run draws over them, so a frame repaints
    this layer with one blit; it is drawn again (decimated to the pixels, clipped to the
    view) only when the view moves or the runs change. 20 runs of 10,000 points as separate
    PlotDataItems cost 25-35 ms a frame here; as this layer, ~1 ms after the first paint.
    (Qt's own DeviceCoordinateCache was tried: stroking into its pixmap was 8x slower.)
    """

    def __init__(self):
        super().__init__()
        self.curves: list[tuple[np.ndarray, np.ndarray, QPen, float]] = []  # x, y (view coords), pen, points/px
        self.dots: list[tuple[np.ndarray, np.ndarray, QColor]] = []
        self._bounds = QRectF()
        self._image: QImage | None = None  # the layer as last painted, in device pixels
        self._key = None  # what the image shows: (data version, device transform, view rect)
        self._version = 0
        self.renders = 0  # times the layer was really drawn (not blitted)

    def set_data(self, curves, dots) -> None:
        self.prepareGeometryChange()
        self.curves, self.dots = curves, dots
        self._version += 1
        xs = [c[0] for c in curves if len(c[0])] + [d[0] for d in dots if len(d[0])]
        ys = [c[1] for c in curves if len(c[1])] + [d[1] for d in dots if len(d[1])]
        if xs:
            x0, x1 = min(a[0] for a in xs), max(a[-1] for a in xs)
            y0, y1 = min(float(a.min()) for a in ys), max(float(a.max()) for a in ys)
            self._bounds = QRectF(x0, y0, max(x1 - x0, 1e-12), max(y1 - y0, 1e-12))
        else:
            self._bounds = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, painter: QPainter, *args) -> None:
        vb = self.getViewBox()
        if vb is None or not self.curves and not self.dots:
            return
        view = vb.viewRect()  # the visible data rectangle, in this item's coordinates
        transform = painter.transform()
        device = transform.mapRect(view).toAlignedRect()
        if device.isEmpty():
            return
        t = transform
        key = (self._version, t.m11(), t.m22(), t.m31(), t.m32(), device.width(), device.height())
        if key != self._key or self._image is None:
            self._render(transform, device, view)
            self._key = key
        painter.save()
        painter.resetTransform()
        painter.drawImage(device.topLeft(), self._image)
        painter.restore()

    def _render(self, transform: QTransform, device: QRect, view: QRectF) -> None:
        image = QImage(device.size(), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setTransform(transform * QTransform.fromTranslate(-device.left(), -device.top()))
        columns = max(device.width(), 1)
        for x, y, curve_pen, per_px in self.curves:
            xs, ys = peak_decimate(x, y, view.left(), view.right(), int(columns * per_px))
            if len(xs) > 1:
                painter.setPen(curve_pen)
                painter.drawPath(pg.arrayToQPath(xs, ys, connect="all", finiteCheck=False))
        if self.dots:
            rx = 2.5 * view.width() / max(device.width(), 1)  # 2.5 device pixels, in data units
            ry = 2.5 * view.height() / max(device.height(), 1)
            painter.setPen(Qt.PenStyle.NoPen)
            for x, y, colour in self.dots:
                painter.setBrush(colour)
                for xi, yi in zip(x, y):
                    painter.drawEllipse(QRectF(xi - rx, yi - ry, 2 * rx, 2 * ry))
        painter.end()
        self._image = image
        self.renders += 1


class OverlayLegend:
    """The overlaid runs' entries (a coloured square and what differs), shown in the plot's key
    beside the view (never over the data); long labels are shortened there, the table has them whole."""

    MAX_SHOWN = 10  # entries in the key; the rest are counted ("+3 more runs")
    MAX_CHARS = 34

    def __init__(self, plot):
        self.plot = plot
        self.entries: list[tuple[str, str]] = []  # (colour, label)

    def set_entries(self, entries: list[tuple[str, str]]) -> None:
        if entries == self.entries:
            return
        self.entries = entries
        shown = [(_short(label, self.MAX_CHARS), colour, "&#9632;") for colour, label in entries[:self.MAX_SHOWN]]
        if len(entries) > self.MAX_SHOWN:
            shown.append((f"+{len(entries) - self.MAX_SHOWN} more runs", "#808080", "&nbsp;"))
        self.plot.set_overlay_key(shown)

    def text(self) -> str:
        return "\n".join(label for _, label in self.entries)


def _short(label: str, n: int) -> str:
    return html.escape(label if len(label) <= n else label[: n - 1] + "…")


class PlotOverlay:
    """The saved runs' ``column`` on one live plot: raw (faint) and smoothed when
    ``smoothed``, the held-out ``dots`` column as points."""

    def __init__(self, plot, column: str, smoothed: bool = True, dots: str | None = None):
        self.plot, self.column, self.smoothed, self.dots = plot, column, smoothed, dots
        self.weight = 0.6  # TensorBoard's default smoothing
        self.x_mode = "step"
        self.runs: list[OverlayRun] = []
        self.drawn: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}  # run id -> {"raw", "smooth"}
        self._y: list[np.ndarray] = []
        self._x_max = 0.0
        item = plot.getPlotItem()
        self._own_label = item.getAxis("bottom").labelText
        self.raw_layer = CurveLayer()  # the raw curves: redrawn when the runs or the view change
        self.raw_layer.setZValue(-5)  # under the live run's curves
        self.layer = CurveLayer()  # the smoothed curves and held-out dots: a slider move redraws only these
        self.layer.setZValue(5)  # over the live run's raw loss, under the crosshair
        for part in (self.raw_layer, self.layer):
            item.addItem(part, ignoreBounds=True)
        self.legend = OverlayLegend(plot)
        item.ctrl.logYCheck.toggled.connect(lambda _: self._redraw())
        plot.overlay = self

    # -- what the live plot asks -------------------------------------------------------------------
    def y_arrays(self) -> list[np.ndarray]:
        return self._y

    def x_extent(self, total: float | None) -> float | None:
        """The x range the plot should span: its own run's length and every overlaid run."""
        if not self.runs:
            return total
        if self.x_mode == "time":
            return self._x_max or None
        return max(total or 0.0, self._x_max) or None

    # -- what the panel sets ------------------------------------------------------------------------
    def set_runs(self, runs: list[OverlayRun]) -> None:
        """Show exactly ``runs``, each in its colour."""
        self.runs = list(runs)
        self._redraw()

    def set_smoothing(self, weight: float) -> None:
        """Re-smooth: only the smoothed layer is redrawn (a slider can drag this)."""
        was, self.weight = self.weight, weight
        if not self.smoothed:
            return
        if (was > 0) != (weight > 0):  # the raw curves appear or go
            self._redraw()
            return
        log = self.plot.getPlotItem().ctrl.logYCheck.isChecked()
        curves = []
        for run in self.runs:
            x, raw = self.drawn[run.id]["raw"]
            shown = smooth(raw, weight)
            self.drawn[run.id]["smooth"] = (x, shown)
            curves.append((*_view(x, shown, log), pen(run.colour, 1), 1.0))
        self.layer.set_data(curves, self.layer.dots)

    def set_x_mode(self, mode: str) -> None:
        self.x_mode = mode
        self._redraw()

    def _redraw(self) -> None:
        item = self.plot.getPlotItem()
        log = item.ctrl.logYCheck.isChecked()
        self._y, self._x_max, self.drawn = [], 0.0, {}
        raws, curves, dots = [], [], []
        x_column = X_COLUMNS[self.x_mode]
        for run in self.runs:
            x, raw = _finite(run.metrics.get(x_column, ()), run.metrics.get(self.column, ()))
            shown = smooth(raw, self.weight) if self.smoothed else raw
            self.drawn[run.id] = {"smooth": (x, shown), **({"raw": (x, raw)} if self.smoothed else {})}
            if self.smoothed and self.weight > 0:
                raws.append((*_view(x, raw, log), pen(pale(run.colour), 1), 0.5))  # faint, 1 point a pixel
            curves.append((*_view(x, shown, log), pen(run.colour, 1), 1.0))  # 1 px: wide pens stroke 20x slower
            self._y.append(raw)
            if len(x):
                self._x_max = max(self._x_max, float(x[-1]))
            if self.dots:
                dx, dy = _finite(run.metrics.get(x_column, ()), run.metrics.get(self.dots, ()))
                dots.append((*_view(dx, dy, log), pg.mkColor(run.colour)))
                self._y.append(dy)
        self.raw_layer.set_data(raws, [])
        self.layer.set_data(curves, dots)
        self.legend.set_entries([(r.colour, r.label) for r in self.runs])
        self._show_live_curves(self.x_mode == "step" or not self.runs)
        item.setLabel("bottom", X_LABELS[self.x_mode] if self.runs else self._own_label)
        self.plot.set_x_extent(self.plot._x_extent)  # the plot's own run length, widened by x_extent
        if self.runs:
            self.plot.fit_y()

    def _show_live_curves(self, on: bool) -> None:
        """By time, the live run's step-indexed curves would not line up: hide them."""
        for data_item in self.plot.getPlotItem().listDataItems():
            data_item.setVisible(on)


def _view(x: np.ndarray, y: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Data to view coordinates (a log axis shows log10 y; values <= 0 are left out)."""
    if not log:
        return x, y
    keep = y > 0
    return x[keep], np.log10(y[keep])


class RunsOverlay:
    """The overlays on the loss, gradient-norm and learning-rate plots, kept in step."""

    def __init__(self, loss_plot, grad_plot, lr_plot):
        self.plots = {
            "loss": PlotOverlay(loss_plot, "loss", dots="heldout_loss"),
            "grad_norm": PlotOverlay(grad_plot, "grad_norm"),
            "lr": PlotOverlay(lr_plot, "lr", smoothed=False),
        }
        self.colours = ColourBook()

    def set_runs(self, runs: list[OverlayRun]) -> None:
        for overlay in self.plots.values():
            overlay.set_runs(runs)

    def set_smoothing(self, weight: float) -> None:
        for overlay in self.plots.values():
            overlay.set_smoothing(weight)

    def set_x_mode(self, mode: str) -> None:
        if mode not in X_COLUMNS:
            raise ValueError(f"x axis {mode!r}: choose one of {', '.join(X_COLUMNS)}")
        for overlay in self.plots.values():
            overlay.set_x_mode(mode)
