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
        job.finished.connect(lambda _: self._forget(job))
        job.failed.connect(lambda *_: self._forget(job))
        self.all.append(job)
        job.start()

    def _forget(self, job: BackgroundCall) -> None:
        """An answered job leaves the list and its owner (a child kept for the owner's life was a
        leak: the testing panel makes three a refresh)."""
        self.all.remove(job)
        job.deleteLater()
