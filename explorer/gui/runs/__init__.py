"""Runs and sweeps in the window: the window's runs recorded in the workspace, the Runs panel
that overlays them on the plots, and sweeps defined, launched and read from here.

``attach(window, workspace)`` is the one call the main window makes: it records the
session's runs, docks the panel, and connects Open / sweeps to the forms and the testing
panel.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget

from explorer.core.runs import RunStore

from ..settings import text_value

WORKSPACE_KEY = "runs/workspace"  # QSettings: the workspace folder (default: default_workspace())


def workspace_of(settings, workspace=None):
    """The workspace: ``--workspace`` when given, else the setting, else the default."""
    return workspace or text_value(settings, WORKSPACE_KEY) or None


def attach(window, workspace=None):
    """Record ``window``'s runs in the workspace and dock its Runs panel; returns the panel."""
    from .overlay import RunsOverlay
    from .panel import RunsPanel
    from .recorder import RunRecorder
    from .sweep_control import SweepControl

    store = RunStore(workspace_of(window.settings, workspace))
    plots = window.plots
    panel = RunsPanel(store, RunsOverlay(plots.loss, plots.grad, plots.lr))
    window.session.recorder_factory = lambda resume_from=None: RunRecorder(panel.store, resume_from)
    panel.sweeps = SweepControl(store, panel, window)
    dock = QDockWidget("Runs", window)
    dock.setObjectName("runs_dock")
    dock.setWidget(panel)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    if window.settings.value("window/state") is None:  # first start: room for a few rows (later: as left)
        QTimer.singleShot(0, lambda: window.resizeDocks([dock], [220], Qt.Orientation.Vertical))
    window.runs_dock = dock
    view = window.menuBar().addMenu("&View")
    view.addAction(dock.toggleViewAction())
    view.addAction("Runs &workspace folder…", lambda: _choose_workspace(window, panel))

    def opened(config, weights):
        window.forms.set_config(config)
        window.lab.presets.show_preset(None)
        if weights is not None:
            window.testing._got_weights(weights)  # what it does with a running trainer's weights

    panel.opened.connect(opened)
    panel.message.connect(window.log.add)
    panel.sweep_requested.connect(panel.sweeps.define)
    window.session.state_changed.connect(lambda _: panel.refresh())

    def lines(values=None):  # the ticked runs' task's reference losses, while no run of the window shows its own
        if window.session.state == "idle":
            window.plots.set_reference_lines(panel.reference_lines)

    panel.lines_changed.connect(lines)
    window.session.state_changed.connect(lambda state: lines() if state == "idle" else None)
    window.log.add(f"runs are recorded in {store.workspace}")
    return panel


def set_workspace(window, panel, folder) -> bool:
    """Record and list runs in ``folder`` from now on (remembered in the settings)."""
    from explorer.core.errors import ExplorerError

    if panel.sweeps.launcher is not None and panel.sweeps.launcher.running:
        window.log.add("stop the sweep before changing the workspace")
        return False
    try:
        store = RunStore(folder)
    except ExplorerError as exc:
        window.show_alert("Cannot use that workspace", str(exc))
        return False
    panel.store = panel.sweeps.store = store
    panel.ticked.clear()
    panel.metrics.clear()
    panel.refresh()
    window.settings.setValue(WORKSPACE_KEY, str(store.workspace))
    window.log.add(f"runs are recorded in {store.workspace} (the next run on)")
    return True


def _choose_workspace(window, panel) -> None:
    from PySide6.QtWidgets import QFileDialog

    folder = QFileDialog.getExistingDirectory(window, "Runs workspace folder", str(panel.store.workspace))
    if folder:
        set_workspace(window, panel, folder)
