"""The Runs panel: every run of the workspace, ticked onto the plots to compare.

It polls the store every ``POLL_MS`` off the GUI thread (listing and reading metrics are
file reads), so runs appear as the window, the CLI or a sweep's workers record them, and
the ticked runs' curves grow while they train. Ticked runs are drawn by a
:class:`~explorer.gui.runs.overlay.RunsOverlay` on the lab's plots, one colour each (the
same in the table, the legend and the differences table), labelled by what differs from
the baseline.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from explorer.core.runs import RunStore, config_diff, short_label
from explorer.core.runs.compare import flatten

from ..threads import BackgroundCall, Jobs
from .overlay import ColourBook, OverlayRun, RunsOverlay
from .table import NAME, DiffTable, RunsTable

POLL_MS = 2000  # how often the store is listed (a cheap scan: 1,000 runs list in well under a second)
AUTO = "__auto__"  # the baseline combo's first entry: the first ticked run


def _weights(store: RunStore, run_id: str):
    """(step, config, loss kind, CPU weights) of a run's checkpoint, as the testing panel takes
    them; None when the run has no checkpoint (read on a worker thread: it imports torch)."""
    path = store.checkpoint_path(run_id)
    if path is None:
        return None
    from explorer.core.lab.persistence import load_checkpoint
    from explorer.core.lab.tasks import make_task

    tensors, meta = load_checkpoint(path)
    config = meta["config"]
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return meta["step"], config, make_task(config.task).loss, state


def legend_labels(shown: list, baseline) -> dict[str, str]:
    """Each shown run's own values of the fields where the shown runs (and the baseline)
    differ: "hidden 32" / "hidden 256" ; a run no different from the others by its name."""
    first = baseline if baseline is not None else (shown[0] if shown else None)
    fields: dict[str, None] = {}
    for r in shown:
        fields.update(dict.fromkeys(config_diff(first.config, r.config)))
    labels = {}
    for r in shown:
        values = flatten(r.config)
        text = short_label({path: (None, values.get(path)) for path in fields})
        labels[r.id] = text or (r.name or r.id)
    return labels


def _lines(tasks: set[str]) -> dict[str, float]:
    """The task's reference losses (r2rt's 0.66 / 0.52 / 0.45) when the runs share one task."""
    if len(tasks) != 1:
        return {}
    from explorer.core.lab.config import TaskConfig
    from explorer.core.lab.tasks import make_task

    return make_task(TaskConfig(**json.loads(next(iter(tasks))))).reference_lines()


class RunsPanel(QWidget):
    opened = Signal(object, object)  # (ExperimentConfig, testing-panel weights or None): Open a run
    message = Signal(str)  # a line for the log
    sweep_requested = Signal()  # the Sweep… button
    listed = Signal()  # a listing of the store has been shown
    lines_changed = Signal(dict)  # the reference losses of the ticked runs' task ({} when tasks differ)

    def __init__(self, store: RunStore, overlay: RunsOverlay, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.overlay = store, overlay
        self.records: list = []
        self.ticked: list[str] = []  # shown on the plots, in the order they were ticked
        self.metrics: dict[str, tuple[int, dict]] = {}  # run id -> (steps when read, columns)
        self.colours = ColourBook()
        self.question: QMessageBox | None = None  # the open "delete?" box (tests answer it)
        self._job: BackgroundCall | None = None
        self._jobs = Jobs(self)  # rename / delete / open, until they finish
        self._signature = None
        self.polls = 0  # lists received (tests wait on it)
        self._overlay_key = self._diff_key = None  # what the overlay / differences table show now
        self.reference_lines: dict[str, float] = {}  # of the ticked runs' one task

        self.table = RunsTable()
        self.diffs = DiffTable()
        self.baseline = QComboBox()
        self.baseline.setToolTip("The run the others are compared with (their differing fields and labels)")
        self.baseline.setMinimumWidth(160)
        self.smoothing = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=99, value=60)
        self.smoothing.setTracking(False)  # re-smooth when let go (each redraw of 20 runs costs a frame or more)
        self.smoothing.setFixedWidth(120)
        self.smoothing.setToolTip("Smoothing as in TensorBoard (debiased EMA); the raw curve stays faint")
        self.smoothing_label = QLabel("0.60")
        self.x_axis = QComboBox()
        self.x_axis.addItem("by step", "step")
        self.x_axis.addItem("by time", "time")
        self.x_axis.setToolTip("x axis of the overlaid runs: training step, or seconds spent training")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Its config into the forms, its weights into the testing panel")
        self.rename_button = QPushButton("Rename")
        self.delete_button = QPushButton("Delete")
        self.sweep_button = QPushButton("Sweep…")
        self.sweep_button.setToolTip("Define and launch a sweep over the forms' experiment")
        self.note = QLabel("")
        self.note.setStyleSheet("color: #505050;")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Baseline"))
        bar.addWidget(self.baseline)
        bar.addSpacing(8)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smoothing)
        bar.addWidget(self.smoothing_label)
        bar.addWidget(self.x_axis)
        bar.addStretch(1)
        for b in (self.open_button, self.rename_button, self.delete_button, self.sweep_button):
            bar.addWidget(b)
        self.sweep_row = QHBoxLayout()  # the sweep's progress goes here (SweepControl)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.diffs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addLayout(self.sweep_row)
        layout.addWidget(split, 1)
        layout.addWidget(self.note)

        self.table.ticked.connect(self.set_ticked)
        self.table.renamed.connect(self.rename)
        self.table.doubleClicked.connect(lambda index: None)
        self.baseline.activated.connect(lambda _: self._show())
        self.smoothing.valueChanged.connect(self._smoothing)
        self.smoothing.sliderMoved.connect(lambda v: self.smoothing_label.setText(f"{v / 100:.2f}"))
        self.x_axis.currentIndexChanged.connect(lambda _: self.overlay.set_x_mode(self.x_axis.currentData()))
        self.open_button.clicked.connect(lambda: self.open_run(self.table.selected_id()))
        self.rename_button.clicked.connect(self._rename_selected)
        self.delete_button.clicked.connect(lambda: self.ask_delete(self.table.selected_id()))
        self.sweep_button.clicked.connect(self.sweep_requested)
        self.overlay.set_smoothing(self.smoothing.value() / 100)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    # -- polling the store ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the store (and read the ticked runs' new metrics) on a worker thread."""
        if self._job is not None and self._job.is_running():
            return
        steps = {r.id: r.steps for r in self.records}
        need = [i for i in self.ticked if i not in self.metrics or self.metrics[i][0] != steps.get(i)
                or self._status(i) == "running"]
        store = self.store
        ticked = list(self.ticked)

        def job():
            records = store.list()
            by_id = {r.id: r for r in records}
            tasks = {json.dumps(by_id[i].config.get("task", {}), sort_keys=True) for i in ticked if i in by_id}
            return records, {i: (by_id[i].steps, store.metrics(i)) for i in need if i in by_id}, _lines(tasks)

        self._job = BackgroundCall(job, self)
        self._job.finished.connect(self._listed)
        self._job.failed.connect(lambda text, _: self.note.setText(f"cannot read the workspace: {text}"))
        self._job.start()

    def _listed(self, answer) -> None:
        records, metrics, lines = answer
        if lines != self.reference_lines:
            self.reference_lines = lines
            self.lines_changed.emit(lines)
        self.polls += 1
        self.records = records
        ids = {r.id for r in records}
        gone = [i for i in self.ticked if i not in ids]
        self.ticked = [i for i in self.ticked if i in ids]
        changed = bool(metrics) or bool(gone)
        self.metrics.update(metrics)
        signature = tuple((r.id, r.name, r.status, r.steps, r.final_heldout) for r in records)
        if signature != self._signature:
            self._signature = signature
            self._fill_baselines()
            changed = True
        if changed:
            self._show()
        self.note.setText(f"{len(records)} run{'s' if len(records) != 1 else ''} in {self.store.workspace}")
        self.listed.emit()

    def _status(self, run_id: str) -> str | None:
        return next((r.status for r in self.records if r.id == run_id), None)

    # -- what is shown ---------------------------------------------------------------------------------
    def baseline_record(self):
        by_id = {r.id: r for r in self.records}
        chosen = self.baseline.currentData()
        if chosen not in (None, AUTO) and chosen in by_id:
            return by_id[chosen]
        for i in self.ticked:
            if i in by_id:
                return by_id[i]
        return self.records[0] if self.records else None

    def _fill_baselines(self) -> None:
        chosen = self.baseline.currentData()
        self.baseline.blockSignals(True)
        self.baseline.clear()
        self.baseline.addItem("first ticked run", AUTO)
        for r in self.records:
            self.baseline.addItem(r.name or r.id, r.id)
        i = self.baseline.findData(chosen)
        self.baseline.setCurrentIndex(max(i, 0))
        self.baseline.blockSignals(False)

    def _show(self) -> None:
        """Table, overlay and differences as the records, ticks and baseline now say."""
        baseline = self.baseline_record()
        self.colours.keep(self.ticked)
        colours = {i: self.colours.colour(i) for i in self.ticked}
        if self.table.state() != RunsTable.State.EditingState:
            self.table.fill(self.records, baseline, set(self.ticked), colours)
        by_id = {r.id: r for r in self.records}
        shown = [by_id[i] for i in self.ticked if i in by_id]
        labels = legend_labels(shown, baseline)
        runs = [OverlayRun(r.id, labels[r.id], colours[r.id], self.metrics.get(r.id, (0, {}))[1]) for r in shown]
        key = [(r.id, r.label, r.colour, len(r.metrics.get("step", ()))) for r in runs]
        if key != self._overlay_key:  # redrawing 20 long runs costs a frame or more: only on a change
            self._overlay_key = key
            self.overlay.set_runs(runs)
        diff_key = ([r.id for r in shown], baseline.id if baseline else None)
        if diff_key != self._diff_key:
            self._diff_key = diff_key
            self.diffs.show_runs(shown, baseline, colours)

    def set_ticked(self, run_id: str, on: bool) -> None:
        if on and run_id not in self.ticked:
            self.ticked.append(run_id)
        elif not on and run_id in self.ticked:
            self.ticked.remove(run_id)
        self._show()
        if on and run_id not in self.metrics:
            self.refresh()

    def tick(self, run_ids) -> None:
        """Show these runs too (a sweep's trials as they appear)."""
        new = [i for i in run_ids if i not in self.ticked]
        if new:
            self.ticked += new
            self._show()
            self.refresh()

    def _smoothing(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self.overlay.set_smoothing(value / 100)

    # -- rename, delete, open ------------------------------------------------------------------------------
    def _background(self, fn, done, what: str) -> None:
        self._jobs.run(fn, done, lambda text: self._problem(f"could not {what}: {text}"))

    def _problem(self, text: str) -> None:
        self.note.setText(text)
        self.message.emit(text)
        self.refresh()

    def _rename_selected(self) -> None:
        row = self.table.row_of(self.table.selected_id() or "")
        if row >= 0:
            self.table.editItem(self.table.item(row, NAME))

    def rename(self, run_id: str, name: str) -> None:
        store = self.store
        self._background(lambda: store.rename(run_id, name), lambda _: self.refresh(), f"rename run {run_id}")

    def ask_delete(self, run_id: str | None) -> None:
        """Ask first (a non-blocking box); Yes deletes the run and its files."""
        record = next((r for r in self.records if r.id == run_id), None)
        if record is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete run",
                          f"Delete the run {record.name or record.id} ({record.status}, {record.steps:,} steps) "
                          "and its files? This cannot be undone.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda result: self._answered(run_id, result))
        self.question = box
        box.open()

    def _answered(self, run_id: str, result: int) -> None:
        self.question = None
        if result != QMessageBox.StandardButton.Yes:
            return
        if run_id in self.ticked:
            self.set_ticked(run_id, False)
        store = self.store
        self._background(lambda: store.delete(run_id), lambda _: self._deleted(run_id), f"delete run {run_id}")

    def _deleted(self, run_id: str) -> None:
        self.metrics.pop(run_id, None)
        self.message.emit(f"deleted run {run_id}")
        self.refresh()

    def open_run(self, run_id: str | None) -> None:
        """Its config into the forms and its weights into the testing panel (``opened``)."""
        if not run_id:
            return
        store = self.store
        self._background(lambda: (store.config(run_id), _weights(store, run_id)),
                         lambda answer: self._opened(run_id, *answer), f"open run {run_id}")

    def _opened(self, run_id: str, config, weights) -> None:
        self.opened.emit(config, weights)
        self.message.emit(f"opened run {run_id}" + ("" if weights else " (no checkpoint: config only)"))

    # -- closing ---------------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.timer.stop()
        if self.question is not None:
            self.question.done(QMessageBox.StandardButton.No)
        for job in [self._job, *self._jobs.all]:
            if job is not None:
                job.wait(30_000)
