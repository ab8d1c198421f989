"""The fixed probe sequence, as source 000's ``test_qualitatively`` draws it: inputs on top,
targets and predictions below, refreshed whenever a probe report arrives."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..run_data import RunData
from .base import PALETTE, TimedPaint, cache_axes, pen


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


class ProbePlot(TimedPaint, pg.GraphicsLayoutWidget):
    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.setMinimumHeight(180)
        self.top = self.addPlot(row=0, col=0, title="<span style='font-size:10pt'>Probe sequence: inputs</span>")
        self.bottom = self.addPlot(row=1, col=0, title="<span style='font-size:10pt'>targets and predictions</span>")
        self.bottom.setXLink(self.top)
        self.bottom.setLabel("bottom", "time step t")
        for p in (self.top, self.bottom):
            p.showGrid(x=True, y=True, alpha=0.15)
            cache_axes(p)
        self.bottom.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.inputs: list[pg.PlotDataItem] = []
        self.targets = self.bottom.plot(name="target", pen=pen("#303030", 2))
        self.predictions = self.bottom.plot(name="prediction", pen=None, symbol="o", symbolSize=5,
                                            symbolBrush="#d62728", symbolPen=None)
        self.caption = pg.LabelItem(justify="right", size="8pt")
        self.addItem(self.caption, row=2, col=0)
        self._seen = None

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
        xs, _ = shown_inputs(probe.inputs)
        while len(self.inputs) < xs.shape[1]:  # one curve per input channel, made once
            self.inputs.append(self.top.plot(pen=pen(PALETTE[len(self.inputs) % len(PALETTE)], 1.5)))
        for i, item in enumerate(self.inputs):
            item.setData(t, xs[:, i]) if i < xs.shape[1] else item.setData([], [])
        masked = np.where(probe.mask[:, None] > 0, 1.0, np.nan)
        ys, labels = shown_columns(probe.targets)
        ps, _ = shown_columns(probe.predictions)
        self.targets.setData(t, (ys * masked)[:, 0])
        self.predictions.setData(t, (ps * masked)[:, 0])
        error = np.nanmean((ps - ys) ** 2 * masked)
        self.caption.setText(f"training step {data.probe_step}: mean squared error {error:.4g} {labels[0]}")
