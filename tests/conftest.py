"""Shared test setup: Qt offscreen, one torch thread, and no thread may outlive its test."""

import gc
import os
import sys
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_configure(config):
    try:
        import torch

        torch.set_num_threads(1)  # small models: one thread is fastest on these machines
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    _compile_numba_kernels()


def _compile_numba_kernels():
    """Compile the numba backend's kernels here, on the main thread, before any window exists.

    A first compile allocates heavily; on a training thread it triggers Python's garbage
    collector there, which then destroys closed windows of earlier tests off the GUI thread:
    a deadlock in ~QObject (seen twice in the full suite). Compiled once up front, the kernels
    are only looked up on the worker threads."""
    from explorer.core.lab import fast

    if not fast.AVAILABLE:
        return
    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.lab.training import Trainer

    for cell in ("vanilla", "relu", "gru", "lstm"):
        for task in ({"name": "cumsum", "max_len": 6, "heldout_size": 2},
                     {"name": "copy", "copy_length": 1, "copy_delay": 2, "heldout_size": 2}):
            config = ExperimentConfig.from_dict({
                "task": task, "model": {"cell": cell, "hidden_size": 4, "backend": "numba"},
                "train": {"steps": 2, "batch_size": 2, "report_every": 1, "flow_every": 1, "probe_every": 1,
                          "eval_every": 1}})
            for _ in Trainer(config).reports():
                pass


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Fail loudly when a test leaves a Python thread running."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    for t in leaked:
        t.join(timeout=2.0)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"threads outlived the test: {[t.name for t in leaked]}"


@pytest.fixture(autouse=True)
def collect_a_gui_tests_garbage(request):
    """After a GUI test, collect its garbage (closed windows in reference cycles) here, on the
    GUI thread: left for later, a collection triggered on a later test's worker thread would
    destroy those Qt objects there (seen: a deadlock in ~QObject during a numba compile)."""
    yield
    if "qtbot" in request.fixturenames:
        from PySide6.QtCore import QCoreApplication, QEvent

        if QCoreApplication.instance() is not None:  # first the widgets qtbot closed (deleteLater)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            QCoreApplication.processEvents()
        gc.collect()


@pytest.fixture(autouse=True)
def no_leaked_qthreads():
    """Fail loudly when a QThread started by the app outlives its test."""
    yield
    threads = sys.modules.get("explorer.gui.threads")
    if threads is None:  # no GUI in this test: Qt was never imported
        return
    for t in threads.live_threads():
        t.wait(2000)
    leaked = threads.live_threads()
    assert not leaked, f"{len(leaked)} QThread(s) outlived the test"


@pytest.fixture(autouse=True)
def workspace_in_tmp(tmp_path_factory, monkeypatch):
    """Runs recorded by a test (the window records every Play) go to a temp workspace, never
    the user's data folder; a test can still point SCAN_EXPLORER_WORKSPACE elsewhere."""
    monkeypatch.setenv("SCAN_EXPLORER_WORKSPACE", str(tmp_path_factory.mktemp("workspace")))
