"""The qualitative testing panel: look at what the model does (source 000's
``test_qualitatively``), on its training inputs and on ones it never saw.

The panel works on a CPU copy of the weights taken between two training steps (when the
run pauses or ends, and every few seconds while it trains), so testing never disturbs
training. Computing is in :mod:`explorer.core.lab.qualitative` and runs on worker threads
(building the model, scoring examples, the typed probe: a long-sequence model took seconds on
the GUI thread); each kind of work shows only its latest request's answer. This file lays out
and draws.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QScrollArea, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from .plots.base import WheelScrolls, pen, plain_axes
from .plots.probe import shown_columns, shown_inputs
from .session import DONE, IDLE, PAUSED, RUNNING
from .threads import BackgroundCall, WorkQueue

def _q():
    """The core's qualitative module (it imports torch: loaded on first use, not with the window)."""
    from explorer.core.lab import qualitative

    return qualitative


REFRESH_MS = 3000  # while training: a fresh weight snapshot this often (if auto is on)
SHOW_GAP_MS = 10  # between two example plots' redraws (each its own paint)
SHOWN_STEPS = 80  # a task with longer sequences (echo's 1,000-step rows) is shown in windows this long
TYPED = {"cumsum": "1, 2, 2, 2, -1, 0.5, 3, -2, 1, 1", "echo": "1 0 0 1 1 0 1 0 0 0 1 1 0 1 0 0"}


NO_MODEL = "no trained model yet: press Play or Step"


class ExamplePlot(WheelScrolls, pg.PlotWidget):
    """One example: target (line), prediction (dots), input (thin, grey). The wheel scrolls
    the panel (Ctrl+wheel zooms), and each new example is shown whole."""

    def __init__(self, parent=None):
        super().__init__(parent=parent)
        self.setFixedHeight(140)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        plain_axes(item)
        self.inputs = self.plot(pen=pen("#a0a0a0", 1))
        self.targets = self.plot(pen=pen("#303030", 1.8))
        self.predictions = self.plot(pen=None, symbol="o", symbolSize=4, symbolBrush="#d62728", symbolPen=None)

    def show_example(self, x: np.ndarray, y: np.ndarray, p: np.ndarray, mask: np.ndarray, title: str) -> None:
        t = np.arange(len(x))
        keep = np.where(mask > 0, 1.0, np.nan)
        xs, _ = shown_inputs(x)
        ys, _ = shown_columns(y)
        ps, _ = shown_columns(p)
        self.inputs.setData(t, xs[:, 0])
        self.targets.setData(t, ys[:, 0] * keep)
        self.predictions.setData(t, ps[:, 0] * keep)
        self.getPlotItem().setTitle(f"<span style='font-size:8pt'>{title}</span>")
        self.getPlotItem().enableAutoRange()  # no zoom carried over from the last example

    def clear_example(self, title: str = "") -> None:
        for item in (self.inputs, self.targets, self.predictions):
            item.setData([], [])
        self.getPlotItem().setTitle(f"<span style='font-size:8pt'>{title}</span>" if title else None)


class TestingPanel(QScrollArea):
    message = Signal(str)
    open_scan = Signal(object)  # a ScanSpec of the model shown: the window opens it in the scan workbench

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.model = self.task = None
        self.weights_step: int | None = None
        self.snapshot: tuple | None = None  # (step, config, loss, weights) of the model shown
        self._measure: BackgroundCall | None = None
        self._to_scan: BackgroundCall | None = None
        self._jobs = WorkQueue(self)  # model builds, examples, the typed probe: off the GUI thread
        self._asked: dict[str, int] = {}  # kind -> number of its latest request
        self._running: set[str] = set()  # kinds with a job in flight
        self._queued: dict[str, tuple] = {}  # kind -> the request waiting for that job
        self._generation = 0  # bumped by forget(): answers for a forgotten model are dropped
        self._showing: list = []  # example plots still to draw, one per turn of the event loop
        self.setWidgetResizable(True)
        self.setMinimumWidth(330)
        body = QWidget()
        self.setWidget(body)
        column = QVBoxLayout(body)

        # weights
        head = QHBoxLayout()
        self.weights = QLabel(NO_MODEL)
        self.weights.setWordWrap(True)
        # two lines, always: a longer text must not resize the panel (and the plots beside it)
        self.weights.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.weights.setFixedHeight(2 * self.weights.fontMetrics().lineSpacing() + 4)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Take the current weights from the training run")
        self.auto = QCheckBox("auto")
        self.auto.setChecked(True)
        self.auto.setToolTip(f"Refresh the weights every {REFRESH_MS // 1000} s while training")
        head.addWidget(self.weights, 1)
        head.addWidget(self.auto)
        head.addWidget(self.refresh_button)
        column.addLayout(head)
        self.open_button = QPushButton("Open in scan workbench")
        self.open_button.setObjectName("open_in_workbench")
        line = QHBoxLayout()
        line.addWidget(self.open_button)
        line.addStretch(1)
        column.addLayout(line)

        # examples
        box = QGroupBox("Examples")
        form = QFormLayout(box)
        self.family = QComboBox()
        self.count = QSpinBox(minimum=1, maximum=8, value=4)
        self.seed = QSpinBox(minimum=0, maximum=99_999, value=0)
        self.draw_button = QPushButton("Draw new examples")
        self.mean_error = QLabel("")
        form.addRow("Inputs", self.family)
        form.addRow("Examples", self.count)
        form.addRow("Seed", self.seed)
        form.addRow(self.draw_button)
        form.addRow(self.mean_error)
        self.example_plots = [ExamplePlot() for _ in range(self.count.maximum())]
        for plot in self.example_plots:
            form.addRow(plot)
        column.addWidget(box)

        # typed probe
        box = QGroupBox("Your own input sequence")
        form = QVBoxLayout(box)
        self.typed = QLineEdit()
        self.typed.setPlaceholderText("type values, e.g. 1, 2, 2, 2")
        self.typed_error = QLabel("")
        self.typed_error.setStyleSheet("color: #c02020;")
        self.typed_plot = ExamplePlot()
        form.addWidget(self.typed)
        form.addWidget(self.typed_error)
        form.addWidget(self.typed_plot)
        column.addWidget(box)

        # error against length
        box = QGroupBox("Error against sequence length")
        form = QVBoxLayout(box)
        self.measure_button = QPushButton("Measure at 1x, 2x, 4x the training length")
        self.length_plot = ExamplePlot()
        self.length_plot.setFixedHeight(150)
        self.length_plot.getPlotItem().setLabel("bottom", "sequence length")
        self.length_plot.getPlotItem().setLabel("left", "mean error")
        self.length_plot.getPlotItem().showGrid(x=True, y=True, alpha=0.15)
        self.length_curve = self.length_plot.plot(pen=pen("#1f77b4", 2), symbol="o", symbolBrush="#1f77b4")
        self.length_note = QLabel("")
        self.length_note.setWordWrap(True)
        form.addWidget(self.measure_button)
        form.addWidget(self.length_plot)
        form.addWidget(self.length_note)
        column.addWidget(box)
        column.addStretch(1)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(lambda: self.auto.isChecked() and self.refresh_weights())
        self.refresh_button.clicked.connect(self.refresh_weights)
        for signal in (self.family.currentIndexChanged, self.count.valueChanged, self.seed.valueChanged):
            signal.connect(self.draw_examples)
        self.draw_button.clicked.connect(lambda: self.seed.setValue(self.seed.value() + 1))
        self.typed.textChanged.connect(self.predict_typed)
        self.measure_button.clicked.connect(self.measure_lengths)
        self.open_button.clicked.connect(self.open_in_workbench)
        session.state_changed.connect(self._on_state)
        session.ready.connect(lambda facts: self.forget(
            f"a new run{' (resumed at step ' + format(facts['step'], ',') + ')' if facts['step'] else ''}: "
            f"its weights show when it pauses or ends, or every {REFRESH_MS // 1000} s"))
        self._set_enabled(False)

    def forget(self, why: str = NO_MODEL) -> None:
        """Drop the model shown (Reset, a new run, a new preset): nothing stale stays."""
        self._generation += 1
        self._queued.clear()
        self._showing = []
        self.model = None
        self.weights_step = None
        self.snapshot = None
        self.weights.setText(why)
        for plot in [*self.example_plots, self.typed_plot]:
            plot.clear_example()
        self.mean_error.setText("")
        self.typed_error.setText("")
        self.length_curve.setData([], [])
        self.length_note.setText("")
        self._set_enabled(False)

    # -- weights --------------------------------------------------------------------------------
    def _on_state(self, state: str) -> None:
        if state == RUNNING:
            self.timer.start()
        else:
            self.timer.stop()
        if state in (PAUSED, DONE):
            self.refresh_weights()
        elif state == IDLE:
            self.forget()

    def refresh_weights(self) -> None:
        """Ask the trainer, between two steps, for a CPU copy of its weights."""
        self.session.with_trainer(lambda t: (t.step, t.config, t.task.loss, t.snapshot()), self._got_weights)

    def _got_weights(self, answer) -> None:
        step, config, loss, state = answer
        task = self.task if self.task is not None and self.task.config == config.task else None

        def build():
            from explorer.core.lab.probe import load_model
            from explorer.core.lab.tasks import make_task

            t = task or make_task(config.task)  # a new task makes its data: not on the GUI thread
            return t, load_model(config.model, state, loss, t.input_size)

        self._compute("model", build, lambda built: self._show_model(built, answer))

    def _show_model(self, built, answer) -> None:
        task, model = built
        step, config, loss, state = answer
        if task is not self.task:
            self.task = task
            self._new_task()
        self.model = model
        self.weights_step = step
        self.snapshot = (step, config, loss, state)
        when = {RUNNING: "while training", PAUSED: "paused", DONE: "run ended"}.get(self.session.state, "")
        self.weights.setText(f"testing the weights of step {step:,} ({when})")
        self.weights.setToolTip(f"the model of {config.title or 'this experiment'} at step {step:,}")
        self._set_enabled(True)
        self.draw_examples()
        self.predict_typed()

    # -- work off the GUI thread -------------------------------------------------------------------
    def _compute(self, kind: str, fn, show) -> None:
        """``fn()`` on a worker, then ``show(result)`` here, unless a newer request of the same
        kind came meanwhile (or the model was forgotten): one job per kind at a time, and only
        the latest waiting request runs next."""
        number = self._asked[kind] = self._asked.get(kind, 0) + 1
        request = (fn, show, number, self._generation)
        if kind in self._running:
            self._queued[kind] = request
            return
        self._start(kind, *request)

    def _start(self, kind: str, fn, show, number: int, generation: int) -> None:
        self._running.add(kind)

        def current() -> bool:
            return number == self._asked.get(kind) and generation == self._generation

        def done(result) -> None:
            self._finish(kind)
            if current():
                show(result)

        def failed(text: str) -> None:
            self._finish(kind)
            if current():
                self.message.emit(f"testing panel: {text}")

        self._jobs.run(fn, done, failed)

    def _finish(self, kind: str) -> None:
        self._running.discard(kind)
        waiting = self._queued.pop(kind, None)
        if waiting is not None:
            self._start(kind, *waiting)

    def idle(self) -> bool:
        """No model build, example or typed probe is being computed (the tests wait for it)."""
        return not self._running and not self._queued and not self._showing

    def _new_task(self) -> None:
        q = _q()
        self.family.blockSignals(True)
        self.family.clear()
        for name in q.families(self.task):
            self.family.addItem(q.TITLES.get(name, name), name)
        self.family.blockSignals(False)
        self.typed.blockSignals(True)
        self.typed.setText(TYPED.get(self.task.name, ""))
        self.typed.blockSignals(False)
        self.typed.setEnabled(self.task.name in TYPED)
        self.typed.setToolTip("" if self.task.name in TYPED else "typing a sequence works for cumsum and echo")
        self.length_curve.setData([], [])
        self.length_note.setText("")

    def _set_enabled(self, on: bool) -> None:
        for w in (self.family, self.count, self.seed, self.draw_button, self.measure_button):
            w.setEnabled(on)
        busy = self._to_scan is not None and self._to_scan.is_running()
        self.open_button.setEnabled(on and not busy)
        self.open_button.setToolTip(
            "Open this model in the scan workbench: its step as expressions, these weights as non-sequences, "
            "the probe sequence as its sequence; step through it and see each h_t" if on else
            f"No trained model to open: {NO_MODEL.removeprefix('no trained model yet: ')}")

    # -- the scan workbench ----------------------------------------------------------------------------
    def open_in_workbench(self) -> None:
        """Build the model's ScanSpec on a worker; ``open_scan(spec)`` when it is ready."""
        if self.snapshot is None or (self._to_scan is not None and self._to_scan.is_running()):
            return
        from explorer.core.lab.to_scan import model_to_scan

        step, config, loss, state = self.snapshot
        x = self.task.probe()[0]  # (T, 1, I): the lab's probe sequence
        self.open_button.setEnabled(False)
        self.open_button.setText("Opening…")
        self._to_scan = BackgroundCall(lambda: model_to_scan(config, state, x, step=step, loss=loss), self)
        self._to_scan.finished.connect(self._scan_ready)
        self._to_scan.failed.connect(self._scan_failed)
        self._to_scan.start()

    def _scan_done(self) -> None:
        self.open_button.setText("Open in scan workbench")
        self._set_enabled(self.model is not None)

    def _scan_ready(self, spec) -> None:
        self._scan_done()
        self.open_scan.emit(spec)

    def _scan_failed(self, text: str, _trace: str) -> None:
        self._scan_done()
        self.message.emit(f"cannot open the model in the scan workbench: {text}")

    # -- examples --------------------------------------------------------------------------------
    def draw_examples(self) -> None:
        if self.model is None:
            return
        q, model, task = _q(), self.model, self.task
        family = self.family.currentData() or "train"
        count, seed = self.count.value(), self.seed.value()
        length = SHOWN_STEPS if task.max_length() > 4 * SHOWN_STEPS and family == "train" else None
        self._compute("examples", lambda: q.score(model, q.draw(task, family, count, seed, length)),
                      lambda scored: self._show_examples(scored, family))

    def _show_examples(self, scored, family: str) -> None:
        """Each example plot in its own turn of the event loop: redrawn and repainted together,
        the examples' new ranges held the window for over 100 ms every refresh."""
        ex = scored.examples
        self._showing = []
        for i, plot in enumerate(self.example_plots):
            plot.setVisible(i < len(scored.errors))
            if i < len(scored.errors):
                self._showing.append(lambda i=i, plot=plot: plot.show_example(
                    ex.inputs[i], ex.targets[i], scored.predictions[i], ex.mask[i],
                    f"example {i + 1}: error {scored.errors[i]:.4g}"))
        self.mean_error.setText(f"mean error {scored.errors.mean():.4g} on {_q().TITLES.get(family, family)}")
        self._show_next()

    def _show_next(self) -> None:
        if self._showing:
            self._showing.pop(0)()
        if self._showing:
            QTimer.singleShot(SHOW_GAP_MS, self._show_next)

    def predict_typed(self) -> None:
        if self.model is None or not self.typed.isEnabled():
            return
        q, model = _q(), self.model
        try:
            x = q.parse_probe(self.task, self.typed.text())
        except ValueError as exc:
            self._asked["typed"] = self._asked.get("typed", 0) + 1  # an answer still on its way is stale now
            self.typed_error.setText(str(exc))
            self.typed_plot.clear_example("no prediction: fix the sequence above")
            return
        self.typed_error.setText("")
        target = q.probe_targets(self.task, x)

        def predicted():
            from explorer.core.lab.probe import predict

            return predict(model, x)["predictions"]  # (T, O)

        self._compute("typed", predicted, lambda prediction: self._show_typed(x, target, prediction))

    def _show_typed(self, x, target, prediction) -> None:
        y = target if target is not None else np.full_like(prediction, np.nan)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged model's errors are inf
            error = float(np.mean((prediction - y) ** 2)) if target is not None else float("nan")
        self.typed_plot.show_example(x, y, prediction, np.ones(len(x)),
                                     f"{len(x)} steps: squared error {error:.4g}")

    # -- error against length -------------------------------------------------------------------------
    def measure_lengths(self) -> None:
        if self.model is None or (self._measure is not None and self._measure.is_running()):
            return
        model, task, q = self.model, self.task, _q()
        self.measure_button.setEnabled(False)
        self.length_note.setText("measuring…")
        self._measure = BackgroundCall(lambda: q.error_vs_length(model, task), self)
        self._measure.finished.connect(self._show_lengths)
        self._measure.failed.connect(lambda text, _: self.length_note.setText(f"could not measure: {text}"))
        self._measure.start()

    def _show_lengths(self, curve) -> None:
        self.measure_button.setEnabled(True)
        if not curve:
            self.length_note.setText(f"the {self.task.name} task has no sequence length to stretch")
            return
        lengths, errors = zip(*curve)
        self.length_curve.setData(list(lengths), list(errors))
        self.length_note.setText("  ".join(f"{n} steps: {e:.4g}" for n, e in curve)
                                 + f"  (weights of step {self.weights_step:,})")

    def shutdown(self) -> None:
        self.timer.stop()
        self._queued.clear()
        self._jobs.shutdown()
        for job in (self._measure, self._to_scan):
            if job is not None:
                job.wait(30_000)
