"""Background work on QThreads, and a registry so nothing outlives its owner.

``BackgroundCall(fn)`` runs ``fn()`` on its own QThread and delivers ``finished(result)``
or ``failed(message, traceback)`` on the GUI thread (queued signals). Every thread started
here is listed by :func:`live_threads` until it has finished; the test suite asserts the
list is empty after each test, and windows join their threads when they close.
"""

from __future__ import annotations

import gc
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot

_LIVE: set[QThread] = set()


class MainThreadGC(QObject):
    """Python's cyclic garbage collector runs on whichever thread allocates past its threshold.
    On a worker that can destroy Qt objects of the GUI thread (a closed window in a cycle):
    a deadlock in ~QObject was seen when a numba compile on the training thread collected one.
    So once background threads run, automatic collection is off and this timer collects on the
    GUI thread, generation by generation as the thresholds say. ``pause()`` / ``resume()``
    hold collections back (a long scan run whose 10^6 step tensors make full collections slow)."""

    _instance: "MainThreadGC | None" = None

    def __init__(self, app: QObject):
        super().__init__(app)
        gc.disable()
        self.paused = 0
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.collect)
        self.timer.start()

    @classmethod
    def install(cls) -> "MainThreadGC | None":
        app = QCoreApplication.instance()
        if cls._instance is None and app is not None:
            cls._instance = cls(app)
            app.destroyed.connect(cls._forget)
        return cls._instance

    @classmethod
    def _forget(cls, *_) -> None:
        cls._instance = None
        gc.enable()

    def collect(self) -> None:
        if self.paused:
            return
        counts, limits = gc.get_count(), gc.get_threshold()
        generation = max((g for g in range(3) if limits[g] and counts[g] > limits[g]), default=-1)
        if generation >= 0:
            gc.collect(generation)

    @classmethod
    def pause(cls) -> None:
        if cls.install() is not None:
            cls._instance.paused += 1

    @classmethod
    def resume(cls) -> None:
        if cls._instance is not None:
            cls._instance.paused = max(0, cls._instance.paused - 1)


def live_threads() -> list[QThread]:
    """QThreads started through this module that have not finished yet."""
    return [t for t in _LIVE if t.isRunning()]


def track(thread: QThread) -> None:
    """Register ``thread`` (it leaves the registry when it finishes); from then on garbage is
    collected on the GUI thread only (:class:`MainThreadGC`)."""
    MainThreadGC.install()
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
