"""Every live plot of the RNN lab, redrawn from the run's buffers by one timer.

The trainer may run thousands of steps a second; the plots redraw at the screen's pace
(up to ~30 frames a second), and only those whose buffers moved. Drawing holds Python's
GIL for much of its time (pyqtgraph paints in Python), and the training thread needs the
GIL too, so frames are spaced to keep drawing within ``BUDGET`` of the wall clock: the
next frame waits for the last one's cost (update + paint) divided by the budget.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..run_data import RunData
from .base import CLOCK
from .curves import GradNormPlot, LearningRatePlot, LossPlot, ParamNormPlot
from .flow import FlowPlot
from .probe import ProbePlot

PRIMARY = ("loss", "probe")  # redrawn every frame; the others every second frame
FRAME_MS = 33  # at most ~30 frames a second
MAX_FRAME_MS = 500  # at least 2 frames a second, however slow drawing is
BUDGET = 0.06  # share of the wall clock drawing may take: the trainer needs the GIL (measured:
#                a 10% budget cost batch-1 training 12-15% of its speed on 2 cores)


class PlotPanel(QWidget):
    def __init__(self, data: RunData, parent: QWidget | None = None):
        super().__init__(parent)
        self.data = data
        self.loss, self.grad, self.params = LossPlot(), GradNormPlot(), ParamNormPlot()
        self.lr, self.probe, self.flow = LearningRatePlot(), ProbePlot(), FlowPlot()
        self.plots = {"loss": self.loss, "probe": self.probe, "grad_norm": self.grad, "grad_flow": self.flow,
                      "param_norms": self.params, "learning_rate": self.lr}

        options = QHBoxLayout()
        self.log_loss = QCheckBox("log-scale loss")
        self.log_loss.toggled.connect(self.loss.set_log_y)
        self.log_grad = QCheckBox("log-scale gradient norms")
        self.log_grad.toggled.connect(lambda on: (self.grad.set_log_y(on), self.params.set_log_y(on)))
        self.summary = QLabel()
        self.summary.setStyleSheet("color: #404040;")
        self.log_loss.setChecked(True)  # losses fall by decades
        self.loss.set_log_y(True)
        options.addWidget(self.log_loss)
        options.addWidget(self.log_grad)
        options.addStretch(1)
        options.addWidget(self.summary)

        grid = QGridLayout()
        grid.setSpacing(4)
        grid.addWidget(self.loss, 0, 0)
        grid.addWidget(self.grad, 1, 0)
        grid.addWidget(self.params, 2, 0)
        grid.addWidget(self.lr, 3, 0)
        grid.addWidget(self.probe, 0, 1, 2, 1)
        grid.addWidget(self.flow, 2, 1, 2, 1)
        for row, stretch in enumerate((4, 3, 3, 2)):
            grid.setRowStretch(row, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(options)
        layout.addLayout(grid, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._frame)
        self.timer.start()
        self.frames = 0  # refreshes done (the soak test counts them)
        self.frame_cost_ms = 0.0  # the last frame's update + paint time

    def set_reference_lines(self, lines: dict[str, float]) -> None:
        self.loss.set_reference_lines(lines)

    def set_total_steps(self, total: int | None) -> None:
        """Fix the training-step axes to the run's length (None: auto-range)."""
        for plot in (self.loss, self.grad, self.params, self.lr):
            plot.set_x_extent(total)
        self.flow.set_extent(total)

    def _frame(self) -> None:
        start = time.perf_counter()
        painted = CLOCK.take()  # painting done since the last frame (the last frame's)
        # the loss and the probe every frame; the other plots every second frame
        self.refresh(secondary=self.frames % 2 == 0)
        cost = 1000 * (time.perf_counter() - start + painted)
        self.frame_cost_ms = cost
        self.timer.setInterval(int(min(max(FRAME_MS, cost / BUDGET), MAX_FRAME_MS)))

    def refresh(self, secondary: bool = True) -> None:
        """Redraw what changed since the last frame (cheap when nothing did); with
        ``secondary=False`` only the loss and the probe."""
        for name, plot in self.plots.items():
            if secondary or name in PRIMARY:
                plot.refresh(self.data)
        text = self._summary()
        if text != self.summary.text():  # setText relays out the bar: only on a change
            self.summary.setText(text)
        self.frames += 1

    def _summary(self) -> str:
        last = self.data.last
        if last is None:
            return ""
        held = self.data.heldout["heldout_loss"]
        parts = [f"step {last.step}"]
        for label, value in (("loss", last.loss), ("EMA", last.loss_ema),
                             ("held-out", held[-1] if len(held) else None)):
            if value is not None:
                parts.append(f"{label} {value:.4g}")
        if last.clipped_fraction is not None:
            parts.append(f"clipped {100 * last.clipped_fraction:.0f}% of steps")
        return "   ".join(parts)

    def export_png(self, folder: str | Path) -> list[Path]:
        """Every plot as ``<name>.png`` in ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, plot in self.plots.items():
            path = folder / f"{name}.png"
            if not plot.grab().save(str(path)):
                raise OSError(f"could not write {path}")
            paths.append(path)
        return paths
