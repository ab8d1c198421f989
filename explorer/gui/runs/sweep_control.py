"""A sweep launched from the window: its worker processes, progress with ETA, Stop, Resume,
and the results view.

The :class:`~explorer.core.sweeps.SweepLauncher` starts the trials as worker *processes*
(never threads of the GUI) and reads their progress from the Optuna storage; every call
to it runs on a worker thread, polled by a timer, so the window never waits on the
storage or on a stopping worker. Trial runs are ticked in the Runs panel as they appear,
so their curves stream onto the plots while they train.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QPushButton

from explorer.core.runs import RunStore

from ..threads import BackgroundCall, Jobs

POLL_MS = 1000  # progress reads of the storage


def eta_text(eta_s, running: int = 0) -> str:
    if eta_s is None:
        return "ETA after the first trial"
    if eta_s < 1 and running:
        return "finishing the running trials"
    if eta_s < 90:
        return f"about {eta_s:.0f} s left"
    return f"about {eta_s / 60:.0f} min left"


class SweepControl(QObject):
    finished = Signal(str)  # the sweep's name: every worker has exited
    progressed = Signal(int, int)  # done, total

    def __init__(self, store: RunStore, panel, window=None):
        super().__init__(panel)
        self.store, self.panel, self.window = store, panel, window
        self.launcher = None
        self.definition = None
        self.workers = 1
        self.status = None  # the last SweepStatus
        self.trials: list = []  # the last TrialResults
        self.dialog = None
        self.results_view = None
        self._job: BackgroundCall | None = None
        self._jobs = Jobs(self)
        self._stopping = False
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(260)
        self.bar.setFormat("%v / %m trials")
        self.stop_button = QPushButton("Stop sweep")
        self.stop_button.setToolTip("Stop every worker after its current step; the sweep can resume")
        self.resume_button = QPushButton("Resume sweep")
        self.results_button = QPushButton("Results…")
        for w in (self.label, self.bar, self.stop_button, self.resume_button, self.results_button):
            panel.sweep_row.addWidget(w)
            w.hide()
        panel.sweep_row.addStretch(1)
        self.stop_button.clicked.connect(self.stop)
        self.resume_button.clicked.connect(self.resume)
        self.results_button.clicked.connect(self.show_results)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    # -- defining and launching ---------------------------------------------------------------------
    def define(self):
        """The sweep dialog over the forms' experiment (non-modal)."""
        from .sweep_dialog import SweepDialog

        config, problems = self.window.forms.config() if self.window is not None else (None, [])
        if config is None:
            self.panel.message.emit(f"fix the forms first: {problems[0]}" if problems else "no experiment")
            return None
        self.dialog = SweepDialog(config, self.window)
        self.dialog.launched.connect(self.launch)
        self.dialog.open()
        return self.dialog

    def launch(self, definition, workers: int) -> None:
        """Open (or resume) the sweep's study and start its worker processes."""
        if self.launcher is not None and self.launcher.running:
            self.panel.message.emit("a sweep is running; stop it first")
            return
        from explorer.core.sweeps import SweepLauncher

        self.definition, self.workers, self._stopping = definition, workers, False
        store = self.store

        def start():
            launcher = SweepLauncher(definition, store, workers=workers)
            launcher.start()
            return launcher

        self._show(f"starting sweep {definition.name}…", running=True)
        self._background(start, self._started, f"start the sweep {definition.name}")

    def _started(self, launcher) -> None:
        self.launcher = launcher
        n = len(launcher.processes)
        self.panel.message.emit(f"sweep {self.definition.name}: {self.definition.total} trials, {n} worker "
                                f"process{'es' if n != 1 else ''} (logs in {launcher.log_dir})")
        self.timer.start()
        self.poll()

    def resume(self) -> None:
        if self.definition is not None:
            self.launch(self.definition, self.workers)

    def stop(self) -> None:
        """Stop cleanly: each worker ends its trial's run "stopped" and queues it again."""
        if self.launcher is None or self._stopping:
            return
        self._stopping = True
        self._show("stopping the workers…", running=True)
        self.stop_button.setEnabled(False)
        self._background(self.launcher.stop, lambda _: self.poll(), "stop the sweep")

    # -- progress --------------------------------------------------------------------------------------
    def poll(self) -> None:
        if self.launcher is None or (self._job is not None and self._job.is_running()):
            return
        launcher = self.launcher
        self._job = BackgroundCall(lambda: (launcher.status(fresh=True), launcher.results(fresh=False),
                                            launcher.running), self)
        self._job.finished.connect(self._polled)
        self._job.failed.connect(lambda text, _: self.label.setText(f"cannot read the sweep: {text}"))
        self._job.start()

    def _polled(self, answer) -> None:
        status, trials, running = answer
        self.status, self.trials = status, trials
        self.bar.setMaximum(max(status.total, 1))
        self.bar.setValue(status.done)
        self.panel.tick([t.run_id for t in trials if t.run_id])
        failed = f", {status.failed} failed" if status.failed else ""
        name = self.definition.name
        if running:
            self._show(f"sweep {name}: {status.running} running{failed}, {eta_text(status.eta_s, status.running)}", running=True)
        else:
            self.timer.stop()
            done = status.done >= status.total
            self._show(f"sweep {name}: {'done' if done else 'stopped'}, {status.done} of {status.total} trials"
                       f"{failed}", running=False, resumable=not done)
            self.panel.refresh()
            self.finished.emit(name)
        self.progressed.emit(status.done, status.total)
        if self.results_view is not None and self.results_view.isVisible():
            self.results_view.show_trials(trials)

    def _show(self, text: str, *, running: bool, resumable: bool = False) -> None:
        self.label.setText(text)
        for w in (self.label, self.bar, self.results_button):
            w.show()
        self.stop_button.setVisible(running)
        self.stop_button.setEnabled(running and not self._stopping)
        self.resume_button.setVisible(resumable)

    # -- results ---------------------------------------------------------------------------------------------
    def show_results(self):
        from .results import SweepResults

        if self.definition is None:
            return None
        if self.results_view is None or self.results_view.definition is not self.definition:
            self.results_view = SweepResults(self.definition, self.window)
            self.results_view.open_run.connect(self._open_run)
        self.results_view.show_trials(self.trials)
        self.results_view.show()
        self.results_view.raise_()
        return self.results_view

    def _open_run(self, run_id: str) -> None:
        self.panel.tick([run_id])
        self.panel.open_run(run_id)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _background(self, fn, done, what: str) -> None:
        self._jobs.run(fn, done, lambda text: self._failed(f"could not {what}: {text}"))

    def _failed(self, text: str) -> None:
        self._stopping = False
        self._show(text, running=False, resumable=self.definition is not None)
        self.panel.message.emit(text)
        if self.window is not None:
            box = QMessageBox(QMessageBox.Icon.Warning, "Sweep", text, QMessageBox.StandardButton.Ok, self.window)
            box.open()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Closing the window: stop the workers (the sweep can resume later) and join threads."""
        self.timer.stop()
        for job in [self._job, *self._jobs.all]:
            if job is not None:
                job.wait(60_000)
        if self.launcher is not None and self.launcher.running:
            self.launcher.stop(timeout=timeout_s)
