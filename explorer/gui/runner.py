"""The training thread: calls ``next()`` on the core generator and sends reports home.

The worker owns the :class:`~explorer.core.lab.training.Trainer` (built on the worker, so
torch work never runs on the GUI thread). Between two steps it honours pause, single
steps, stop and queued commands (checkpoint, weight snapshot). Full reports are batched
and emitted at most ``max_rate`` times a second, plus once at the end, so the GUI thread
is never flooded however fast training runs.
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QThread, Signal, Slot

from .threads import track


def _describe_error(exc: Exception) -> str:
    """The user's text for a failure: our errors speak for themselves; others say their kind."""
    from explorer.core.errors import ExplorerError

    if isinstance(exc, ExplorerError):
        return str(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not a checkpoint or text file this app wrote (undecodable byte at {exc.start})"
    return f"{type(exc).__name__}: {exc}"


class TrainingRunner(QThread):
    """One training run on its own thread. Signals arrive on the GUI thread (queued)."""

    ready = Signal(object)  # describe(trainer): plain facts gathered on the worker before step 1
    reports = Signal(list)  # full StepReports since the last emission, in order
    finished_run = Signal(object)  # the final StepReport (done=True), or None if none came
    failed = Signal(str, str)  # message, traceback (building the trainer or a step raised)
    paused_changed = Signal(bool)
    command_failed = Signal(str)  # a call() raised; training goes on
    _answer = Signal(object, object)  # (callback, result) of a command, for the GUI thread

    def __init__(self, make_trainer: Callable[[Any], Any], control: Any, *, paused: bool = False,
                 max_rate: float = 30.0, describe: Callable[[Any], Any] = lambda trainer: trainer, parent=None,
                 recorder=None):
        super().__init__(parent)
        self._make_trainer, self.control, self._describe = make_trainer, control, describe
        self.recorder = recorder  # records the run in the workspace, on this thread (gui.runs.recorder)
        self._interval = 1.0 / max_rate
        self._cond = threading.Condition()
        self._paused, self._stop, self._steps_allowed = paused, False, 0
        self._commands: list[tuple[Callable, Callable | None]] = []
        self.trainer = None  # set on the worker; touch it only through call()
        self.final = None
        self._answer.connect(self._deliver)

    # -- control, from the GUI thread ------------------------------------------------------------
    def start(self) -> None:  # noqa: D102 - QThread.start, plus tracking
        track(self)
        super().start()

    def pause(self) -> None:
        self._set(paused=True)

    def resume(self) -> None:
        self._set(paused=False)

    def step_once(self) -> None:
        """Run exactly one optimisation step (while paused), with a full report."""
        with self._cond:
            self._paused = True
            self._steps_allowed += 1
            self._cond.notify_all()
        self.paused_changed.emit(True)

    def stop(self) -> None:
        """Finish the run after the current step (the last report says "stopped")."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    @property
    def is_paused(self) -> bool:
        return self._paused

    def call(self, fn: Callable[[Any], Any], callback: Callable[[Any], None] | None = None) -> None:
        """Run ``fn(trainer)`` on the worker between two steps; ``callback(result)`` on the GUI
        thread. When the thread is not running, ``fn`` runs here and now."""
        if not self.isRunning():
            if self.trainer is not None:
                result = fn(self.trainer)
                if callback is not None:
                    callback(result)
            return
        with self._cond:
            self._commands.append((fn, callback))
            self._cond.notify_all()

    def _set(self, *, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._cond.notify_all()
        self.paused_changed.emit(paused)

    @Slot(object, object)
    def _deliver(self, callback, result) -> None:
        if callback is not None:
            callback(result)

    # -- the worker ---------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.trainer = self._make_trainer(self.control)
            if self.recorder is not None:
                self._note(self.recorder.start(self.trainer))
            self.ready.emit(self._describe(self.trainer))  # read here: the trainer is still at rest
            self._loop(self.trainer.reports())
        except Exception as exc:  # noqa: BLE001 - shown in a dialog and the log
            if self.recorder is not None:
                self.recorder.fail(exc)
            self.failed.emit(_describe_error(exc), traceback.format_exc())

    def _loop(self, generator) -> None:
        pending, last_emit, final = [], 0.0, None
        while True:
            # wait while paused, unless a step, a stop or a command is asked for
            with self._cond:
                while self._paused and not (self._stop or self._steps_allowed or self._commands):
                    self._cond.wait()
                commands, self._commands = self._commands, []
                stop, single = self._stop, False
                if self._paused and self._steps_allowed and not stop:
                    self._steps_allowed -= 1
                    single = True
            for fn, callback in commands:  # between two steps: the model is at rest
                try:
                    self._answer.emit(callback, fn(self.trainer))
                except Exception as exc:  # noqa: BLE001 - e.g. a checkpoint path not writable
                    self.command_failed.emit(f"{type(exc).__name__}: {exc}")
            if self._paused and not (single or stop):
                continue  # woken for commands only
            if stop:
                self.control.request_stop()
            elif single:
                self.control.request_report()
            # one optimisation step
            try:
                report = next(generator)
            except StopIteration:
                break
            if self.recorder is not None:
                self._note(self.recorder.write(self.trainer, report))
            if report.full:
                pending.append(report)
            now = time.monotonic()
            if pending and (report.done or single or now - last_emit >= self._interval):
                self.reports.emit(pending)
                pending, last_emit = [], now
            if report.done:
                final = report
                break
        if pending:
            self.reports.emit(pending)
        self.final = final
        if self.recorder is not None:
            self._note(self.recorder.finish(self.trainer, final))
        self.finished_run.emit(final)

    def _note(self, problem: str | None) -> None:
        if problem:
            self.command_failed.emit(problem)
