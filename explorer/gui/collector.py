"""Python's cyclic garbage collector, run on the GUI thread only, while the window is up.

With automatic collection on, the thread that allocates past the collector's threshold runs
the collection, and it frees every unreachable cycle, Qt objects included. On the training
thread or a testing worker, freeing a closed widget that sat in a reference cycle runs
~QObject off the GUI thread: a deadlock in Shiboken's GIL hand-off (seen, during a large import
on the training thread) or a crash. So while the app runs, automatic collection is off and a
GUI-thread timer collects instead, generationally: the youngest generation every 0.1 s, the
middle one every second, everything every 10 s (reference counting frees all the rest at once,
as always; only cycles wait for the timer).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

TICK_MS = 100
MIDDLE_EVERY, FULL_EVERY = 10, 100  # ticks


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> "GuiThreadCollector":
        gc.disable()
        self.timer.start()
        return self

    def stop(self) -> None:
        """Back to automatic collection (after a last full collection here)."""
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def _tick(self) -> None:
        self._ticks += 1
        gc.collect(2 if self._ticks % FULL_EVERY == 0 else 1 if self._ticks % MIDDLE_EVERY == 0 else 0)
