"""The fixed probe sequence, as source 000's ``test_qualitatively`` draws it: inputs on top,
targets and predictions below, refreshed whenever a probe report arrives."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ..run_data import RunData
from .base import PALETTE, Enlargeable, TimedPaint, WheelScrolls, cache_axes, key_html, pen, plain_axes


def shown_columns(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(T, k) columns worth drawing and their labels: a scalar per step as is; two classes
    as P(class 1); more classes as the class index (argmax)."""
    if values.shape[1] == 1:
        return values, [""]
    if values.shape[1] == 2:
        return values[:, 1:2], ["P(1)"]
    return np.argmax(values, axis=1)[:, None].astype(float), ["class"]


def shown_inputs(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    if values.shape[1] <= 4:
        one_hot = values.shape[1] > 1 and np.all((values == 0) | (values == 1)) and np.all(values.sum(1) <= 1)
        if one_hot and values.shape[1] == 2:
            return values[:, 1:2], ["x"]
        return values, [f"x[{i}]" for i in range(values.shape[1])] if values.shape[1] > 1 else ["x"]
    return np.argmax(values, axis=1)[:, None].astype(float), ["symbol"]


class ProbePlot(WheelScrolls, Enlargeable, TimedPaint, pg.GraphicsLayoutWidget):
    enlarge_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.title = "Probe sequence"
        self.setMinimumHeight(180)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setToolTip("Double-click to enlarge (Esc returns); Ctrl+wheel zooms")
        self.top = self.addPlot(row=0, col=0, title="<span style='font-size:10pt'>Probe sequence: inputs</span>")
        self.bottom = self.addPlot(row=1, col=0, title="<span style='font-size:10pt'>targets and predictions</span>")
        self.bottom.setXLink(self.top)
        self.bottom.setLabel("bottom", "time step t")
        for p in (self.top, self.bottom):
            p.showGrid(x=True, y=True, alpha=0.15)
            cache_axes(p)
            plain_axes(p)
        self.key = pg.LabelItem(key_html([("target", "#303030", "━━"), ("prediction", "#d62728", "●")]),
                                justify="left", size="8pt")
        self.bottom.layout.addItem(self.key, 2, 3)  # beside the data, never over it
        self.top_key = pg.LabelItem("", justify="left", size="8pt")
        self.top.layout.addItem(self.top_key, 2, 3)
        self.ci.layout.setRowStretchFactor(0, 2)
        self.ci.layout.setRowStretchFactor(1, 3)
        self.inputs: list[pg.PlotDataItem] = []
        self.targets = self.bottom.plot(name="target", pen=pen("#303030", 2))
        self.predictions = self.bottom.plot(name="prediction", pen=None, symbol="o", symbolSize=5,
                                            symbolBrush="#d62728", symbolPen=None)
        self.caption = pg.LabelItem(justify="right", size="8pt")
        self.addItem(self.caption, row=2, col=0)
        self._seen = None

    def reset_view(self) -> None:
        for p in (self.top, self.bottom):
            p.enableAutoRange()

    def hide_readout(self) -> None:
        """Nothing to hide: the probe has no readout."""

    def refresh(self, data: RunData) -> None:
        if data.probe_version == self._seen:
            return
        self._seen = data.probe_version
        probe = data.probe
        if probe is None:
            for item in [*self.inputs, self.targets, self.predictions]:
                item.setData([], [])
            self.caption.setText("")
            return
        t = np.arange(len(probe.inputs))
        xs, names = shown_inputs(probe.inputs)
        while len(self.inputs) < xs.shape[1]:  # one curve per input channel, made once
            self.inputs.append(self.top.plot(pen=pen(PALETTE[len(self.inputs) % len(PALETTE)], 1.5)))
        key = key_html([(n, PALETTE[i % len(PALETTE)], "━━") for i, n in enumerate(names)])
        if key != self.top_key.text:
            self.top_key.setText(key)
        for i, item in enumerate(self.inputs):
            item.setData(t, xs[:, i]) if i < xs.shape[1] else item.setData([], [])
        masked = np.where(probe.mask[:, None] > 0, 1.0, np.nan)
        ys, labels = shown_columns(probe.targets)
        ps, _ = shown_columns(probe.predictions)
        self.targets.setData(t, (ys * masked)[:, 0])
        self.predictions.setData(t, (ps * masked)[:, 0])
        error = np.nanmean((ps - ys) ** 2 * masked)
        self.caption.setText(f"training step {data.probe_step}: mean squared error {error:.4g} {labels[0]}")
