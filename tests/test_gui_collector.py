"""Cycles are collected on the GUI thread only: a closed widget in a reference cycle is never
destroyed by a worker thread's allocation burst (a deadlock in ~QObject, seen twice)."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from explorer.gui.collector import GuiThreadCollector


class Tracked(QObject):
    freed_on: list = []

    def __del__(self):
        Tracked.freed_on.append(threading.current_thread())


def _garbage_cycle() -> None:
    obj = Tracked()
    obj.me = obj  # unreachable once this returns: only the cyclic collector frees it


def _allocate() -> None:
    junk = []
    for _ in range(200_000):  # far past generation 0's threshold: automatic collection would run here
        junk.append([[]])


def test_a_workers_allocations_never_free_qt_objects_there(qtbot):
    assert not gc.isenabled()  # the GUI tests run as the app does
    Tracked.freed_on.clear()
    _garbage_cycle()
    worker = threading.Thread(target=_allocate)
    worker.start()
    worker.join()
    assert Tracked.freed_on == []  # not on the worker
    qtbot.waitUntil(lambda: bool(Tracked.freed_on), timeout=15_000)  # the GUI timer's collection
    assert Tracked.freed_on == [threading.main_thread()]


def test_stop_collects_and_gives_automatic_collection_back(qapp):
    gc.enable()
    collector = GuiThreadCollector().start()
    assert not gc.isenabled()
    Tracked.freed_on.clear()
    _garbage_cycle()
    collector.stop()
    assert Tracked.freed_on == [threading.main_thread()] and gc.isenabled()
    collector.deleteLater()
