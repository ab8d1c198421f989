"""Shared pieces of the GUI tests: a window with throwaway settings, small configs."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QSettings

from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import load_preset


def small_config(**train) -> ExperimentConfig:
    """The default preset, shrunk to run in well under a second."""
    config = ExperimentConfig.from_dict(load_preset("train", "default"))
    base = dict(steps=60, report_every=5, flow_every=20, probe_every=20, eval_every=30, batch_size=8)
    base.update(train)
    return dataclasses.replace(config, train=dataclasses.replace(config.train, **base),
                               model=dataclasses.replace(config.model, hidden_size=16))


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    from explorer.gui.main_window import MainWindow

    w = MainWindow(preset="default", settings=settings)
    qtbot.addWidget(w)
    yield w
    w.session.shutdown(timeout_ms=5000)


def wait_state(qtbot, session, state: str, timeout: int = 60_000) -> None:  # a loaded CI machine is slow
    qtbot.waitUntil(lambda: session.state == state, timeout=timeout)


@pytest.fixture
def bench(qtbot):
    """A scan workbench on its own; closing it must leave no thread running."""
    from explorer.gui.scan import ScanWorkbench

    w = ScanWorkbench()
    qtbot.addWidget(w)
    yield w
    assert w.close_workbench()


@pytest.fixture
def finished(window, qtbot):
    """The window after a short run of the default preset has ended."""
    from explorer.gui.session import DONE

    window.forms.set_config(small_config())
    window.play()
    wait_state(qtbot, window.session, DONE)
    window.plots.refresh()
    return window
