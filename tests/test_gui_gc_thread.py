"""Garbage with Qt objects in it is collected on the GUI thread, never on a worker (a worker's
collection of a closed window deadlocked in ~QObject)."""

import gc
import threading

import pytest

pytestmark = pytest.mark.gui


class Cycle:
    where: list = []

    def __init__(self):
        self.me = self  # only the cyclic collector can free it

    def __del__(self):
        Cycle.where.append(threading.current_thread().name)


def test_cyclic_garbage_is_collected_on_the_gui_thread(qtbot):
    from explorer.gui.threads import BackgroundCall, MainThreadGC

    gc.collect()
    Cycle.where = []
    for _ in range(50):
        Cycle()  # garbage now, freed by the next collection

    def churn():  # allocates far past gen-0's threshold on the worker, and keeps it
        return [[i] for i in range(20_000)]

    call, kept = BackgroundCall(churn), []
    call.finished.connect(kept.append)  # the lists stay alive: gen 0 is past its threshold
    with qtbot.waitSignal(call.finished, timeout=30_000):
        call.start()
    call.wait()
    assert not gc.isenabled() and MainThreadGC._instance is not None
    qtbot.waitUntil(lambda: len(Cycle.where) == 50, timeout=5_000)  # the GUI thread's timer collects
    assert set(Cycle.where) == {"MainThread"}
