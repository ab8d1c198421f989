"""Run a ScanSpec on a worker thread, with progress, cancel, and a clean shutdown.

The worker calls :func:`run_spec`; its ``progress`` hook only stores the step number (a
plain int, written by the worker and read by the GUI) and returns the cancel flag. A
``QTimer`` on the GUI thread reads the step ten times a second, so a fast scan never
floods the event loop. Results come back as one queued signal; nothing but plain data
crosses the thread.

Garbage collection: a run keeps every step's tensors alive, and CPython's full
collections walk all of them while holding the GIL (60-200 ms each at 10^5-10^6 steps,
measured), which stalls the GUI thread. Automatic collection is paused for the length of
a run (when it was on) and restored when the run ends.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from explorer.core.errors import ConfigError
from explorer.core.spec import Cancelled, ScanSpec, run_spec
from explorer.gui.threads import track

PROGRESS_MS = 100  # progress updates: ~10 per second


class _ScanThread(QThread):
    """Runs one spec; ``outcome`` holds (kind, payload) when the thread has finished."""

    def __init__(self, spec: ScanSpec, cancel: threading.Event):
        super().__init__()
        self.spec, self.cancel = spec, cancel
        self.step = 0  # last step reported by the scan (worker writes, GUI reads)
        self.outcome: tuple[str, object] = ("failed", ("the run did not finish", ""))

    def _progress(self, step: int) -> bool:
        self.step = step
        return self.cancel.is_set()

    def run(self) -> None:
        import traceback

        try:
            self.outcome = ("finished", run_spec(self.spec, progress=self._progress))
        except Cancelled as exc:
            self.outcome = ("cancelled", str(exc))
        except ConfigError as exc:
            self.outcome = ("problems", exc.problems)
        except Exception as exc:  # noqa: BLE001 - any failure is reported, the window lives on
            self.outcome = ("failed", (f"{type(exc).__name__}: {exc}", traceback.format_exc()))


class ScanRunner(QObject):
    """One run at a time. Signals arrive on the GUI thread."""

    started = Signal()
    progressed = Signal(int)  # steps done so far
    finished = Signal(object)  # the ScanRun
    problems = Signal(list)  # FieldProblems found while running (a later step's shape...)
    cancelled = Signal(str)
    failed = Signal(str, str)  # message, traceback
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: _ScanThread | None = None
        self._cancel = threading.Event()
        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_MS)
        self._timer.timeout.connect(self._poll)
        self._last = -1
        self._gc_was_on = False

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, spec: ScanSpec) -> bool:
        """Start a run of ``spec``; False (and nothing started) while one is running."""
        if self._thread is not None:
            return False
        self._cancel = threading.Event()
        thread = _ScanThread(spec, self._cancel)
        thread.finished.connect(self._done)
        self._thread, self._last = thread, -1
        self._gc_was_on = gc.isenabled()
        gc.disable()
        track(thread)
        thread.start()
        self._timer.start()
        self.started.emit()
        self.running_changed.emit(True)
        return True

    def cancel(self) -> None:
        """Ask the running scan to stop after its current step."""
        self._cancel.set()

    def shutdown(self, ms: int = 5000) -> bool:
        """Cancel and join the worker (closing the window); True when no thread is left."""
        thread = self._thread
        if thread is None:
            return True
        self._cancel.set()
        joined = thread.wait(ms)
        if joined:
            self._done()
        return joined

    def _poll(self) -> None:
        thread = self._thread
        if thread is not None and thread.step != self._last:
            self._last = thread.step
            self.progressed.emit(self._last)

    def _done(self) -> None:
        thread = self._thread
        if thread is None:  # already handled (shutdown joined it first)
            return
        thread.wait()  # finished is emitted just before the thread ends
        self._thread = None
        self._timer.stop()
        if self._gc_was_on:
            gc.enable()
        kind, payload = thread.outcome
        thread.deleteLater()
        self.running_changed.emit(False)
        if kind == "finished":
            self.finished.emit(payload)
        elif kind == "cancelled":
            self.cancelled.emit(payload)
        elif kind == "problems":
            self.problems.emit(payload)
        else:
            self.failed.emit(*payload)
