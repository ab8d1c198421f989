"""Every live plot of the RNN lab, redrawn from the run's buffers by one timer.

Layout: the story big on top (the loss with its reference lines | the probe's predictions
against its targets), the diagnostics below in tabs (gradient norms global and per
parameter, gradient flow through time, learning rate, and what is inside the model on the
probe: units, gates, PCA, eigenvalues). Any plot enlarges to fill the panel
(double-click, Esc or "Back" returns). Splitters and tabs keep their sizes however the
labels change, so nothing jumps while training.

The trainer may run thousands of steps a second; the plots redraw at the screen's pace
(up to ~30 frames a second), and only those whose buffers moved. Drawing holds Python's
GIL for much of its time (pyqtgraph paints in Python), and the training thread needs the
GIL too, so frames are spaced to keep drawing within ``BUDGET`` of the wall clock: the
next frame waits for the last one's cost (update + paint) divided by the budget.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSplitter,
                               QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from ..run_data import RunData
from .base import CLOCK
from .curves import GradNormPlot, LearningRatePlot, LossPlot, ParamNormPlot
from .flow import FlowPlot
from .inside import InsideView
from .probe import ProbePlot

PRIMARY = ("loss", "probe")  # redrawn every frame; the others every second frame
FRAME_MS = 33  # at most ~30 frames a second
MAX_FRAME_MS = 500  # at least 2 frames a second, however slow drawing is
BUDGET = 0.06  # share of the wall clock drawing may take: the trainer needs the GIL (measured:
#                a 10% budget cost batch-1 training 12-15% of its speed on 2 cores)


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" where its text does not fit (a right-aligned QLabel cut
    off its start: the summary read "tep 930 loss ..."); ``text()`` stays the whole text."""

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(self)
        painter.drawText(rect, int(self.alignment()), text)


def _slot(widget: QWidget) -> QWidget:
    """A place a plot lives in (and returns to after being enlarged)."""
    slot = QWidget()
    box = QVBoxLayout(slot)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(widget)
    return slot


class PlotPanel(QWidget):
    enlarged_changed = Signal(str)  # the enlarged plot's name, "" when back to the overview

    def __init__(self, data: RunData, parent: QWidget | None = None):
        super().__init__(parent)
        self.data = data
        self.loss, self.grad, self.params = LossPlot(), GradNormPlot(), ParamNormPlot()
        self.lr, self.probe, self.flow = LearningRatePlot(), ProbePlot(), FlowPlot()
        self.inside = InsideView()
        self.plots = {"loss": self.loss, "probe": self.probe, "grad_norm": self.grad, "grad_flow": self.flow,
                      "param_norms": self.params, "learning_rate": self.lr, "inside": self.inside}
        self._generation = data.generation  # which run the plots show (a new run resets views)
        self.warning: str | None = None  # e.g. "the loss diverged ..." (shown in the summary)

        options = QHBoxLayout()
        self.log_loss = QCheckBox("log-scale loss")
        self.log_loss.toggled.connect(self.loss.set_log_y)
        self.log_grad = QCheckBox("log-scale gradient norms")
        self.log_grad.toggled.connect(lambda on: (self.grad.set_log_y(on), self.params.set_log_y(on)))
        self.reset_views_button = QPushButton("Reset views")
        self.reset_views_button.setToolTip("Every plot back to its own ranges (after zooming with Ctrl+wheel)")
        self.reset_views_button.clicked.connect(self.reset_views)
        self.summary = ElidedLabel()
        self.summary.setStyleSheet("color: #404040;")
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # never widens the panel
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.log_loss.setChecked(True)  # losses fall by decades
        self.loss.set_log_y(True)
        options.addWidget(self.log_loss)
        options.addWidget(self.log_grad)
        options.addWidget(self.reset_views_button)
        options.addWidget(self.summary, 1)

        # the overview: the story on top, diagnostics in tabs below
        self.story = QSplitter(Qt.Orientation.Horizontal)
        self.story.setObjectName("story_splitter")
        self.story.addWidget(_slot(self.loss))
        self.story.addWidget(_slot(self.probe))
        self.story.setStretchFactor(0, 3)
        self.story.setStretchFactor(1, 2)
        self.story.setSizes([600, 400])
        self.diagnostics = QTabWidget()
        self.diagnostics.setObjectName("diagnostics_tabs")
        self.diagnostics.tabBar().setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a click takes focus
        norms = QSplitter(Qt.Orientation.Horizontal)
        norms.addWidget(_slot(self.grad))
        norms.addWidget(_slot(self.params))
        self.diagnostics.addTab(norms, "Gradient norms")
        self.diagnostics.addTab(_slot(self.flow), "Gradient flow")
        self.diagnostics.addTab(_slot(self.lr), "Learning rate")
        self.diagnostics.addTab(_slot(self.inside), "Inside")
        self.diagnostics.setTabToolTip(3, "What the hidden units and gates do on the probe sequence, "
                                          "and the recurrent matrix's eigenvalues (measured at each probe)")
        self.overview = QSplitter(Qt.Orientation.Vertical)
        self.overview.setObjectName("overview_splitter")
        self.overview.addWidget(self.story)
        self.overview.addWidget(self.diagnostics)
        self.overview.setStretchFactor(0, 2)
        self.overview.setStretchFactor(1, 1)  # the story (loss, probe) gets the most room
        self.overview.setSizes([520, 340])

        # one plot, big
        self.big = QWidget()
        big = QVBoxLayout(self.big)
        big.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.back_button = QPushButton("◀ Back to all plots  [Esc]")
        self.back_button.clicked.connect(self.restore)
        self.big_title = QLabel()
        self.big_reset = QPushButton("Reset view")
        self.big_reset.clicked.connect(lambda: self.plots[self.enlarged].reset_view())
        bar.addWidget(self.back_button)
        bar.addWidget(self.big_title, 1)
        bar.addWidget(self.big_reset)
        big.addLayout(bar)
        self.big_box = QVBoxLayout()
        big.addLayout(self.big_box, 1)
        self.enlarged = ""  # the enlarged plot's name
        self._home: QWidget | None = None
        self.stack = QStackedWidget()
        self.stack.addWidget(self.overview)
        self.stack.addWidget(self.big)
        for name, plot in self.plots.items():
            plot.enlarge_requested.connect(lambda name=name: self.toggle_enlarged(name))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(options)
        layout.addWidget(self.stack, 1)

        self._pending: list = []  # plots of the frame being drawn, one per turn of the event loop
        self._stale: set = set()  # plots still showing the last run's zoom or readout
        self._frame_cost = 0.0  # seconds: the frame's refreshes and the painting since the last one
        self._turn = QTimer(self)
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._next_plot)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._frame)
        self.timer.start()
        self.frames = 0  # refreshes done (the soak test counts them)
        self.frame_cost_ms = 0.0  # the last frame's update + paint time

    # -- enlarging ------------------------------------------------------------------------------
    def enlarge(self, name: str) -> None:
        """Show plot ``name`` alone, filling the panel (its tab or slot keeps its place)."""
        if self.enlarged:
            self.restore()
        plot = self.plots[name]
        self._home = plot.parentWidget()
        self.big_box.addWidget(plot)  # reparents it
        self.big_title.setText(f"<b>{plot.title}</b>")
        self.enlarged = name
        self.stack.setCurrentWidget(self.big)
        self.enlarged_changed.emit(name)

    def restore(self) -> None:
        """Back to every plot (Esc)."""
        if not self.enlarged:
            return
        plot = self.plots[self.enlarged]
        self._home.layout().addWidget(plot)
        self.enlarged, self._home = "", None
        self.stack.setCurrentWidget(self.overview)
        self.enlarged_changed.emit("")

    def toggle_enlarged(self, name: str) -> None:
        self.restore() if self.enlarged == name else self.enlarge(name)

    def reset_views(self) -> None:
        for plot in self.plots.values():
            plot.reset_view()

    def _new_run(self) -> None:
        """The data belongs to another run now: no stale zoom, no stale readout (each plot reset
        in its own turn of the frame, :meth:`_next_plot`: all at once stalled the window 200 ms)."""
        self._generation = self.data.generation
        self._stale = set(self.plots.values())

    def _reset_if_stale(self, plot) -> None:
        if plot in self._stale:
            self._stale.discard(plot)
            plot.hide_readout()
            plot.reset_view()

    def set_warning(self, text: str | None) -> None:
        """A warning about the run (it diverged) at the head of the summary, in red."""
        self.warning = text
        self.summary.setStyleSheet("color: #b00000; font-weight: bold;" if text else "color: #404040;")
        self.summary.setToolTip(text or "")
        self.summary.setText(self._summary())

    def set_cell(self, cell: str) -> None:
        """The run's cell (the Inside tab names its recurrent matrix and gates by it)."""
        self.inside.set_cell(cell)

    def set_reference_lines(self, lines: dict[str, float]) -> None:
        self.loss.set_reference_lines(lines)

    def set_total_steps(self, total: int | None) -> None:
        """Fix the training-step axes to the run's length (None: auto-range)."""
        for plot in (self.loss, self.grad, self.params, self.lr):
            plot.set_x_extent(total)
        self.flow.set_extent(total)

    def _frame(self) -> None:
        """One frame, a plot per turn of the event loop: each plot's scene updates its items in
        queued calls after its refresh, and all of them in one turn held the GUI thread for
        100-140 ms (bench/soak.py --why); one at a time, a tick or a key press gets in between."""
        if self.data.generation != self._generation:
            self._new_run()
            self._pending = []  # another run's data: draw it from the start
        if self._pending:
            return  # the last frame is still being drawn
        self._frame_cost = CLOCK.take()  # seconds of painting since the last frame
        # the loss and the probe every frame; the other plots every second frame (and any not reset yet)
        secondary = self.frames % 2 == 0
        self._pending = [plot for name, plot in self.plots.items()
                         if secondary or name in PRIMARY or plot in self._stale]
        self._next_plot()

    def _next_plot(self) -> None:
        start = time.perf_counter()
        if self._pending:
            plot = self._pending.pop(0)
            self._reset_if_stale(plot)
            plot.refresh(self.data)
        self._frame_cost += time.perf_counter() - start
        if self._pending:
            self._turn.start()  # the next plot in the next turn (the panel's own timer: gone with it)
            return
        self._show_summary()
        self.frames += 1
        cost = 1000 * self._frame_cost
        self.frame_cost_ms = cost
        self.timer.setInterval(int(min(max(FRAME_MS, cost / BUDGET), MAX_FRAME_MS)))

    def refresh(self, secondary: bool = True) -> None:
        """Redraw what changed since the last frame (cheap when nothing did); with
        ``secondary=False`` only the loss and the probe."""
        for name, plot in self.plots.items():
            self._reset_if_stale(plot)
            if secondary or name in PRIMARY:
                plot.refresh(self.data)
        self._show_summary()
        self.frames += 1

    def _show_summary(self) -> None:
        text = self._summary()
        if text != self.summary.text():  # setText relays out the bar: only on a change
            self.summary.setText(text)

    def _summary(self) -> str:
        if self.warning:  # the headline; the whole text is the tooltip, the log and the dialog
            return f"⚠ {self.warning.split(':')[0]} (hover for why)"
        last = self.data.last
        if last is None:
            return ""
        held = self.data.heldout["heldout_loss"]
        parts = [f"step {last.step:,}"]
        for label, value in (("loss", last.loss), ("EMA", last.loss_ema),
                             ("held-out", held[-1] if len(held) else None)):
            if value is not None:
                parts.append(f"{label} {value:.4g}")
        if last.clipped_fraction is not None:
            parts.append(f"clipped {100 * last.clipped_fraction:.0f}% of steps")
        return "   ".join(parts)

    def export_png(self, folder: str | Path) -> list[Path]:
        """Every plot as ``<name>.png`` in ``folder`` (made if missing)."""
        return self._export(folder, "png")

    def export_svg(self, folder: str | Path) -> list[Path]:
        """Every plot as ``<name>.svg`` in ``folder``, through pyqtgraph's SVG exporter."""
        return self._export(folder, "svg")

    def _export(self, folder: str | Path, kind: str) -> list[Path]:
        folder = Path(folder).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot make the folder {folder}: {exc.strerror or exc}") from None
        paths = []
        self.inside.refresh(self.data, force=True)  # drawn even while its tab is hidden
        for name, plot in self.plots.items():
            path = folder / f"{name}.{kind}"
            if kind == "png":
                ok = plot.grab().save(str(path))
            else:
                ok = _export_svg(plot, path)
            if not ok:
                raise OSError(f"could not write {path}")
            paths.append(path)
        return paths


def _export_svg(plot, path: Path) -> bool:
    """``plot`` as vector SVG: pyqtgraph's exporter (it keeps items as SVG elements); where
    it cannot parse a path that this Qt writes (pyqtgraph 0.14 with PySide6 6.x raises on
    some curve paths), Qt's own SVG generator draws the widget instead."""
    import pyqtgraph.exporters as exporters

    try:
        if not hasattr(plot, "scene"):  # several plots in one widget (the Inside tab): Qt draws it
            raise ValueError("no single scene")
        exporters.SVGExporter(plot.scene()).export(str(path))
        return path.is_file()
    except (ValueError, IndexError):
        from PySide6.QtCore import QPoint, QRect, QSize
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(QSize(plot.width(), plot.height()))
        generator.setViewBox(QRect(0, 0, plot.width(), plot.height()))
        generator.setTitle(getattr(plot, "title", path.stem))
        painter = QPainter(generator)
        try:
            if hasattr(plot, "scene"):
                plot.render(painter)  # QGraphicsView.render: the scene, as vectors
            else:
                QWidget.render(plot, painter, QPoint())  # the widget and its children
        finally:
            painter.end()
        return path.is_file()
