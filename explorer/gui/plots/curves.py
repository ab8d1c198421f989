"""The training curves: loss, gradient norms (global and per parameter), learning rate.

Each reads :class:`~explorer.gui.run_data.RunData` in ``refresh`` and calls ``setData``
only when its buffers changed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ..run_data import RunData, finite
from .base import PALETTE, LivePlot, pen

# the reference lines' colours: muted, none of them a curve's (loss blues, held-out orange)
REFERENCE_COLOURS = ("#606060", "#9467bd", "#8c564b", "#17a2b8", "#bcbd22", "#e377c2")


class LossPlot(LivePlot):
    """Raw loss (faint), its EMA, the held-out loss, and the task's reference lines."""

    def __init__(self, parent=None):
        super().__init__("Loss", "loss", parent=parent)
        self._lines: list[tuple[pg.InfiniteLine, str, float]] = []  # (line, its key text, value)
        self.raw = self.curve("raw", "loss", "#7fa7d0", width=1, alpha=110)
        self.ema = self.curve("ema", "EMA (0.99)", "#1f4e99", width=2)
        self.heldout = self.curve("heldout", "held-out", "#e07020", width=2, symbol="o")
        self._log = False

    def set_reference_lines(self, lines: dict[str, float]) -> None:
        """Dashed lines at the task's reference losses (they do not stretch the axes), each in
        its own colour and named in the key beside the plot: a label drawn in the view always
        ended up over some run's curve (an overlaid run starts high, a good one ends low)."""
        for line, _, _ in self._lines:
            self.removeItem(line)
        self._lines = []
        for k, (name, value) in enumerate(lines.items()):
            colour = REFERENCE_COLOURS[k % len(REFERENCE_COLOURS)]
            line = pg.InfiniteLine(angle=0, pen=pen(colour, 1.2, 220, Qt.PenStyle.DashLine))
            line.setToolTip(f"{name}: {value:.4g}")
            self.getPlotItem().addItem(line, ignoreBounds=True)
            self._lines.append((line, f"{name}: {value:.4g}", value))
        self._place_lines()
        self._update_key()

    def reference_key(self) -> list[str]:
        """The key's text for each reference line, in order."""
        return [text for _, text, _ in self._lines]

    def extra_key(self) -> list[tuple[str, str, str]]:
        return [(text, line.pen.color().name(), "┄┄") for line, text, _ in self._lines]

    def set_log_y(self, on: bool) -> None:
        super().set_log_y(on)
        self._log = on
        self._place_lines()

    def _place_lines(self, *_) -> None:
        """Lines at their values (in log mode, log10: the view's coordinates)."""
        for line, _, value in self._lines:
            line.setPos(np.log10(value) if self._log and value > 0 else value)

    def refresh(self, data: RunData) -> None:
        if self.needs((data.scalars.version, data.heldout.version)):
            s = data.scalars
            self.raw.setData(s["step"], s["loss"])
            self.ema.setData(s["step"], s["loss_ema"])
            self.heldout.setData(data.heldout["step"], data.heldout["heldout_loss"])
            self.fit_y(s["loss"], s["loss_ema"], data.heldout["heldout_loss"])


class GradNormPlot(LivePlot):
    """Global gradient norm before and after clipping, with the clip threshold."""

    def __init__(self, parent=None):
        super().__init__("Gradient norm (global)", "‖∇‖", parent=parent)
        self.before = self.curve("before", "before clipping", "#d62728", width=1, alpha=170)
        self.after = self.curve("after", "after clipping", "#2ca02c", width=1.5)
        self.threshold = self.curve("clip", "clip threshold", "#404040", width=1, style=Qt.PenStyle.DashLine)

    def refresh(self, data: RunData) -> None:
        if self.needs(data.scalars.version):
            s = data.scalars
            self.before.setData(s["step"], s["grad_norm"])
            self.after.setData(s["step"], s["grad_norm_clipped"])
            self.threshold.setData(*finite(s["step"], s["clip_norm"]))
            self.fit_y(s["grad_norm"], s["grad_norm_clipped"])


class ParamNormPlot(LivePlot):
    """Gradient norm of each parameter tensor (before clipping)."""

    def __init__(self, parent=None):
        super().__init__("Gradient norm per parameter", "‖∇‖", parent=parent)
        self._names: tuple[str, ...] = ()

    def refresh(self, data: RunData) -> None:
        params = data.params
        if params is None:
            if self._names:
                self.clear_curves()
            return
        names = params.columns[1:]
        if names != self._names:  # a new model: one curve per parameter, made once
            self.clear_curves()
            for i, name in enumerate(names):
                self.curve(name, name, PALETTE[i % len(PALETTE)], width=1.2)
            self._names = names
            self._seen = None
        if self.needs(params.version):
            for name in names:
                self._curves[name].setData(params["step"], params[name])
            self.fit_y(*(params[name] for name in names))

    def clear_curves(self) -> None:
        for item in self._curves.values():
            self.removeItem(item)
        self._curves.clear()
        self._update_key()
        self._names = ()


class LearningRatePlot(LivePlot):
    """The learning rate actually used, from zero up (a decay shows as a step down)."""

    def __init__(self, parent=None):
        super().__init__("Learning rate", "lr", parent=parent)
        self.lr = self.curve("lr", None, "#9467bd", width=1.5)  # one curve: no legend over it

    def refresh(self, data: RunData) -> None:
        if self.needs(data.scalars.version):
            x, y = finite(data.scalars["step"], data.scalars["lr"])
            self.lr.setData(x, y)
            y = np.concatenate([y, *(self.overlay.y_arrays() if self.overlay else ())])  # saved runs too
            if len(y) and not self._user_y and self.getPlotItem().vb.viewRange()[1][1] != 1.15 * float(y.max()):
                self.setYRange(0, 1.15 * float(y.max()), padding=0)

