"""Background work on QThreads, and a registry so nothing outlives its owner.

``BackgroundCall(fn)`` runs ``fn()`` on its own QThread and delivers ``finished(result)``
or ``failed(message, traceback)`` on the GUI thread (queued signals). Every thread started
here is listed by :func:`live_threads` until it has finished; the test suite asserts the
list is empty after each test, and windows join their threads when they close.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

_LIVE: set[QThread] = set()


def live_threads() -> list[QThread]:
    """QThreads started through this module that have not finished yet."""
    return [t for t in _LIVE if t.isRunning()]


def track(thread: QThread) -> None:
    """Register ``thread`` (it leaves the registry when it finishes)."""
    _LIVE.add(thread)
    thread.finished.connect(lambda: _LIVE.discard(thread))


class _Job(QObject):
    done = Signal(object)
    error = Signal(str, str)

    def __init__(self, fn: Callable[[], Any]):
        super().__init__()
        self._fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, never swallowed
            self.error.emit(str(exc) or type(exc).__name__, traceback.format_exc())
        else:
            self.done.emit(result)


class BackgroundCall(QObject):
    """Run one callable off the GUI thread; results arrive as signals on the GUI thread."""

    finished = Signal(object)  # the callable's return value
    failed = Signal(str, str)  # message, traceback text

    def __init__(self, fn: Callable[[], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._job = _Job(fn)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.done.connect(self._on_done)
        self._job.error.connect(self._on_error)
        # quit() is thread-safe: call it directly from the worker. (A queued call would wait
        # for the GUI thread, which may be the one waiting for this thread to end.)
        self._job.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._job.error.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        track(self._thread)
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, ms: int = 5000) -> bool:
        """Block until the call has finished (the callable must end by itself)."""
        return self._thread.wait(ms)

    @Slot(object)
    def _on_done(self, result: Any) -> None:
        self._thread.wait()
        self.finished.emit(result)

    @Slot(str, str)
    def _on_error(self, message: str, trace: str) -> None:
        self._thread.wait()
        self.failed.emit(message, trace)


class Jobs:
    """Background calls of one owner, each kept alive until it answers: ``run(fn, done, failed)``
    calls ``done(result)`` or ``failed(message)`` on the GUI thread; ``all`` for a shutdown's join."""

    def __init__(self, parent: QObject):
        self.parent, self.all = parent, []

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        job = BackgroundCall(fn, self.parent)
        job.finished.connect(done)
        job.failed.connect(lambda text, _: failed(text))
        job.finished.connect(lambda _: self.all.remove(job))
        job.failed.connect(lambda *_: self.all.remove(job))
        self.all.append(job)
        job.start()


class _Runner(QObject):
    answered = Signal(int, bool, object)  # (request, ok, result or message)

    @Slot(int, object)
    def run(self, key: int, fn) -> None:
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, never swallowed
            self.answered.emit(key, False, str(exc) or type(exc).__name__)
        else:
            self.answered.emit(key, True, result)


class WorkQueue(QObject):
    """One worker thread that runs submitted callables in order: ``run(fn, done, failed)`` calls
    ``done(result)`` or ``failed(message)`` on the GUI thread. No objects are made per call (a
    QThread per call, kept by its owner, grew without end). The thread runs while calls are
    pending and stops when the last one has answered (so a dropped owner leaves none running);
    the next call starts it again."""

    _submit = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread = QThread()
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)  # queued: runs on the worker
        self._runner.answered.connect(self._answered)  # queued: back on the GUI thread
        self._answers: dict[int, tuple[Callable, Callable]] = {}
        self._next = 0
        self._stopping = False  # quit() was called: wait for the loop to end before starting again

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[str], None]) -> None:
        if self._stopping:
            self._thread.wait()  # its loop is ending (nothing was running): a call posted now would be lost
            self._stopping = False
        if not self._thread.isRunning():
            track(self._thread)
            self._thread.start()
        self._next += 1
        self._answers[self._next] = (done, failed)
        self._submit.emit(self._next, fn)

    def busy(self) -> bool:
        return bool(self._answers)

    @Slot(int, bool, object)
    def _answered(self, key: int, ok: bool, value) -> None:
        done, failed = self._answers.pop(key, (None, None))
        if not self._answers:
            self._thread.quit()
            self._stopping = True
        if done is not None:
            (done if ok else failed)(value)

    def shutdown(self, ms: int = 30_000) -> None:
        """Drop the answers still to come and join the thread (after the call running now)."""
        self._answers.clear()
        self._thread.quit()
        self._thread.wait(ms)
        self._stopping = False
