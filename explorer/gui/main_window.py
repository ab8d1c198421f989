"""The main window: toolbar, the RNN lab and scan workbench tabs, log, status bar, menus.

It lays widgets out and connects them; the session holds the training state, the forms
hold the config, the plots draw the run's buffers.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractSpinBox, QApplication, QComboBox, QFileDialog, QInputDialog, QLabel,
                               QLineEdit, QMainWindow, QMessageBox, QPlainTextEdit, QSplitter, QStyle, QTabBar, QTabWidget,
                               QTextEdit, QToolBar)

from explorer.core.errors import ExplorerError

from . import file_actions
from .lab_page import LabPage
from .log_view import LogView
from .runs import attach as attach_runs
from .session import DONE, IDLE, PAUSED, RUNNING, TrainingSession
from .settings import app_settings, int_value, restore_window, save_window, text_value
from .status import StatusBar
from .testing_panel import TestingPanel
from .threads import BackgroundCall


def typing_in(widget) -> bool:
    """True when ``widget`` takes typed text (a line edit, a spin box, an editable combo or
    text box): single-key shortcuts then leave the key to it."""
    if isinstance(widget, (QLineEdit, QAbstractSpinBox)):
        return True
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    if isinstance(widget, (QPlainTextEdit, QTextEdit)):
        return not widget.isReadOnly()
    return False


def clicks_take_focus(root) -> None:
    """Every tab bar under ``root`` takes the focus when clicked, so that a key pressed next
    goes to the window's shortcuts, not into the field edited last."""
    for bar in root.findChildren(QTabBar):
        bar.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


class MainWindow(QMainWindow):
    def __init__(self, preset: str | None = None, scan_preset: str | None = None,
                 settings: QSettings | None = None, session: TrainingSession | None = None, workspace=None):
        super().__init__()
        self.setWindowTitle("Scan Explorer")
        self.settings = settings if settings is not None else app_settings()
        self.session = session or TrainingSession(parent=self)
        self.log = LogView()
        self.lab = LabPage(self.session.data)
        self.forms, self.plots = self.lab.forms, self.lab.plots
        self.testing = TestingPanel(self.session)
        self.lab.add_side_panel(self.testing, "Testing")
        self.scan = None  # the scan workbench, built once torch is imported
        self._scan_preset = scan_preset
        self.tabs = QTabWidget()
        self.tabs.tabBar().setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a click on a tab takes focus
        self.tabs.addTab(self.lab, "RNN lab")
        self.tabs.addTab(QLabel("loading the scan workbench…", alignment=Qt.AlignmentFlag.AlignCenter),
                         "Scan workbench")
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.setObjectName("body_splitter")
        self.body.addWidget(self.tabs)
        self.body.addWidget(self.log)
        self.body.setStretchFactor(0, 5)
        self.body.setStretchFactor(1, 1)
        self.body.setSizes([820, 130])
        self.setCentralWidget(self.body)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.last_alert: QMessageBox | None = None
        self._actions()
        self._menus()
        self._connect()
        self.runs = attach_runs(self, workspace)  # the Runs panel (a dock) and recording runs in the workspace
        restore_window(self, self.settings, [self.body, self.lab])
        self.tabs.setCurrentIndex(int_value(self.settings, "window/tab", 0) if scan_preset is None else 1)
        self.load_preset(preset or text_value(self.settings, "lab/preset", "default"))
        self._on_state(IDLE)
        clicks_take_focus(self)
        self.log.add("ready: choose a preset, edit the forms, press Play (Space)")

    # -- building ------------------------------------------------------------------------------
    def _actions(self) -> None:
        icon = self.style().standardIcon
        P = QStyle.StandardPixmap
        self.act_play = QAction(icon(P.SP_MediaPlay), "Play", self,
                                toolTip="Train (or resume) with the forms' settings  [Space]")
        self.act_pause = QAction(icon(P.SP_MediaPause), "Pause", self,
                                 toolTip="Pause after the current step  [P]")
        self.act_step = QAction(icon(P.SP_MediaSeekForward), "Step", self,
                                toolTip="One optimisation step (one batch), then pause  [S]")
        self.act_reset = QAction(icon(P.SP_BrowserReload), "Reset", self,
                                 toolTip="Stop, clear the curves, start afresh on the next Play  [R]")
        self.act_stop = QAction(icon(P.SP_MediaStop), "Stop", self,
                                toolTip="End the run; its curves stay  [Esc]")
        # Esc: back from an enlarged plot, else Stop (one shortcut, so neither is ambiguous)
        self.act_escape = QAction("Back / Stop", self)

        bar = QToolBar("Training")
        bar.setObjectName("training_toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.act_play, self.act_pause, self.act_step, self.act_reset, self.act_stop):
            bar.addAction(act)
        self.addToolBar(bar)
        self.toolbar = bar

    def _menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        for text, slot, keys in (
            ("&Open experiment…", self.open_experiment_dialog, QKeySequence.StandardKey.Open),
            ("&Save experiment…", self.save_experiment_dialog, QKeySequence.StandardKey.Save),
            ("Save &checkpoint…", self.save_checkpoint_dialog, None),
            ("&Resume from checkpoint…", self.resume_checkpoint_dialog, None),
            ("Export plots as &PNG…", self.export_plots_dialog, None),
            ("Export plots as S&VG…", lambda: self.export_plots_dialog("svg"), None),
            ("Export &metrics as CSV…", self.export_metrics_dialog, None),
            ("Export as PyTorch scrip&t…", self.export_script_dialog, None),
        ):
            act = menu.addAction(text, slot)
            if keys is not None:
                act.setShortcut(keys)
        menu.addSeparator()
        menu.addAction("&Quit", self.close).setShortcut(QKeySequence.StandardKey.Quit)
        run = self.menuBar().addMenu("&Run")
        for act in (self.act_play, self.act_pause, self.act_step, self.act_reset, self.act_stop):
            run.addAction(act)

    def _connect(self) -> None:
        s = self.session
        self._keys()
        self.act_play.triggered.connect(self.play)
        self.act_pause.triggered.connect(s.pause)
        self.act_step.triggered.connect(self.step)
        self.act_reset.triggered.connect(s.reset)
        self.act_stop.triggered.connect(s.stop)
        self.act_escape.triggered.connect(self.escape)
        s.state_changed.connect(self._on_state)
        s.message.connect(self.log.add)
        s.alert.connect(self.show_alert)
        s.ready.connect(self._on_ready)
        self.forms.live_edit.connect(self._live_edit)
        self.lab.presets.chosen.connect(self.load_preset)
        self.status_timer = QTimer(self)  # a few times a second is plenty for numbers
        self.status_timer.setInterval(250)
        self.status_timer.timeout.connect(lambda: self.status.refresh(s.data))
        self.status_timer.start()
        self.tabs.currentChanged.connect(self._tab_changed)
        self.testing.message.connect(self.log.add)
        self.testing.open_scan.connect(self.open_in_workbench)

    def _tab_changed(self, index: int) -> None:
        on_lab = self.tabs.widget(index) is self.lab
        self.toolbar.setEnabled(on_lab)
        self.toolbar.setToolTip("" if on_lab else "Training controls: for the RNN lab tab")

    # -- the keyboard --------------------------------------------------------------------------
    def _keys(self) -> None:
        """Single-key shortcuts (Space, P, S, R, Esc). They are QShortcuts, not the actions'
        own, so that a key pressed while a text field has the focus stays the field's."""
        self.shortcuts = {}
        for key, action in (("Space", self.act_play), ("P", self.act_pause), ("S", self.act_step),
                            ("R", self.act_reset), ("Esc", self.act_escape)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(lambda action=action: self._key(action))
            self.shortcuts[key] = shortcut

    def _key(self, action: QAction) -> None:
        if action is not self.act_escape and typing_in(QApplication.focusWidget()):
            return  # the key is the field's
        if action.isEnabled() and self.toolbar.isEnabled() or action is self.act_escape:
            action.trigger()

    def escape(self) -> None:
        """Esc: back from an enlarged plot, else stop the run."""
        if self.plots.enlarged:
            self.plots.restore()
        else:
            self.session.stop()

    # -- the buttons ---------------------------------------------------------------------------
    def play(self) -> None:
        config = self._valid_config()
        if config is not None:
            self.session.play(config)

    def step(self) -> None:
        config = self._valid_config() if self.session.state in (IDLE, DONE) else self.session.config
        if config is not None:
            self.session.step(config)

    def _valid_config(self):
        if self.session.state in (RUNNING, PAUSED):
            return self.session.config
        config, problems = self.forms.config()
        if problems:
            first = problems[0]
            self.log.add(f"cannot start: {len(problems)} problem(s) in the forms; first: {first}")
            self.status.showMessage(f"fix the marked fields first: {first}", 8000)
        return config

    def _live_edit(self, name: str, value: float) -> None:
        (self.session.set_lr if name == "lr" else self.session.set_clip)(value)

    def _on_state(self, state: str) -> None:
        active = state in (RUNNING, PAUSED)
        self.act_play.setEnabled(state != RUNNING)
        self.act_play.setText("Resume" if state == PAUSED else "Play")
        self.act_pause.setEnabled(state == RUNNING)
        self.act_step.setEnabled(True)
        self.act_stop.setEnabled(active)
        self.act_reset.setEnabled(state != IDLE)
        self.forms.set_running(active)
        self.lab.presets.setEnabled(not active)
        self.lab.presets.combo.setToolTip("Stop or Reset the run to load another preset" if active
                                          else "Load a training preset into the forms")
        warning = self.session.divergence() if state == DONE else None
        self.status.set_state(state, warning)
        self.plots.set_warning(warning)
        if state == IDLE:
            self.status.set_total(None)
            self.plots.set_reference_lines({})
            self.plots.set_total_steps(None)
        self.status.refresh(self.session.data)  # the final step shows at once, not a frame later

    def _on_ready(self, facts: dict) -> None:
        if facts["step"]:  # resumed: the forms show the checkpoint's experiment
            self.forms.set_config(facts["config"])
            self.lab.presets.show_preset(None)
        self.status.set_device(facts["device"])
        self.status.set_total(facts["total_steps"])
        self.plots.set_reference_lines(facts["reference_lines"])
        self.plots.set_total_steps(facts["total_steps"])
        self.plots.set_cell(facts["config"].model.cell)

    def show_alert(self, title: str, text: str, details: str = "") -> None:
        """A non-blocking dialog (the log has the details too)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.last_alert = box

    # -- presets and files --------------------------------------------------------------------------
    def load_preset(self, name: str) -> None:
        try:
            config = self.lab.presets.config(name)
        except ExplorerError as exc:
            self.log.add(f"cannot load preset {name!r}: {exc}")
            self.show_alert("Unknown preset", f"--preset {name}: {exc}")
            if name != "default":
                self.load_preset("default")
            return
        self.forms.set_config(config)
        self.lab.presets.show_preset(name)
        self.settings.setValue("lab/preset", name)
        if self.session.state in (IDLE, DONE):
            self.testing.forget("a new preset: press Play or Step to train it")
        self.log.add(f"preset: {config.title or name} ({name})")

    def open_experiment_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open experiment", "", "Experiment (*.json)")
        if path:
            self.open_experiment(path)

    def open_experiment(self, path: str) -> bool:
        try:
            config = file_actions.open_experiment(path)
        except (ExplorerError, OSError, ValueError) as exc:
            exc = file_actions.file_problem(path, exc)
            self.show_alert("Cannot open experiment", str(exc))
            self.log.add(f"cannot open the experiment: {exc}")
            return False
        self.forms.set_config(config)
        self.lab.presets.show_preset(None)
        self.log.add(f"opened {path}")
        return True

    def save_experiment_dialog(self) -> None:
        config, problems = self.forms.config()
        if config is None:
            self.show_alert("Cannot save", f"fix the marked fields first: {problems[0]}")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save experiment", "experiment.json", "Experiment (*.json)")
        if path:
            self._report(lambda: file_actions.save_experiment(config, path), "experiment saved to {}")

    def save_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", "checkpoint.safetensors",
                                              "Checkpoint (*.safetensors *.pt)")
        if path:
            file_actions.save_checkpoint(self.session, path, self.log.add)

    def resume_checkpoint_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Resume from checkpoint", "", "Checkpoint (*.safetensors *.pt)")
        if not path:
            return
        steps, ok = QInputDialog.getInt(self, "Resume from checkpoint",
                                        "Train to how many steps in all?\n(0: the checkpoint's own step count)",
                                        0, 0, 100_000_000, 1000)
        if ok:
            self.resume_checkpoint(path, steps or None)

    def resume_checkpoint(self, path: str, steps: int | None = None) -> None:
        """Continue a saved run to its own step count, or to ``steps`` in all if given."""
        if self.session.state in (RUNNING, PAUSED):
            self.show_alert("Cannot resume", "stop the current run first")
            return
        self.session.resume(path, steps=steps)

    def export_plots_dialog(self, kind: str = "png") -> None:
        dialog = QFileDialog(self, f"Export plots as {kind.upper()} to a folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        if dialog.exec():
            self.export_plots(file_actions.chosen_folder(dialog), kind)

    def export_plots(self, folder: str, kind: str = "png") -> None:
        export = self.plots.export_svg if kind == "svg" else self.plots.export_png
        self._report(lambda: export(folder), "plots saved: {}")

    def export_metrics_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path:
            self._report(lambda: file_actions.export_metrics(self.session.data, path), "metrics saved to {}")

    def export_script_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export as a standalone PyTorch script", "train.py",
                                              "Python (*.py)")
        if path:
            self.export_script(path)

    def export_script(self, path: str) -> None:
        """The forms' experiment as one script, torch and numpy only (``python main.py export``)."""
        from explorer.core.lab.export import write_script

        config, problems = self.forms.config()
        if config is None:
            self.show_alert("Could not export", "fix the marked fields first: " +
                            "; ".join(f"{p.field}: {p.message}" for p in problems))
            return
        self._report(lambda: write_script(config, path), "script written to {0}: run it with  python {0} --steps 100")

    def _report(self, work, done: str) -> None:
        try:
            result = work()
        except (ExplorerError, OSError) as exc:
            self.show_alert("Could not save", str(exc))
            return
        if isinstance(result, list):
            result = ", ".join(str(p) for p in result)
        self.log.add(done.format(result))

    # -- the scan workbench (needs torch: built after the window is up) ------------------------------
    def load_scan_workbench(self) -> None:
        if self.scan is not None:
            return
        if "torch" in sys.modules:
            self._build_scan()
            return
        self._torch_loader = BackgroundCall(lambda: __import__("torch"), self)
        self._torch_loader.finished.connect(lambda _: self._build_scan())
        self._torch_loader.failed.connect(lambda text, trace: self.log.add(f"cannot load torch: {text}"))
        self._torch_loader.start()

    def _build_scan(self) -> None:
        if self.scan is not None:  # built already (a model opened from the lab before torch's loader answered)
            return
        from .scan.workbench import ScanWorkbench

        index = self.tabs.currentIndex()
        self.scan = ScanWorkbench()
        self.scan.message.connect(self.log.add)
        self.scan.alert.connect(self.show_alert)
        self.tabs.removeTab(1)
        self.tabs.insertTab(1, self.scan, "Scan workbench")
        clicks_take_focus(self.scan)
        self.tabs.setCurrentIndex(index)
        name = self._scan_preset or text_value(self.settings, "scan/preset", "cumsum")
        try:
            self.scan.load_preset(name)
        except ExplorerError as exc:
            text = "; ".join(str(p) for p in getattr(exc, "problems", [])) or str(exc)
            self.log.add(f"cannot load scan preset {name!r}: {text}")
            self.show_alert("Unknown scan preset", f"--scan-preset {name}: {text}")

    def open_in_workbench(self, spec) -> None:
        """The testing panel's model as a scan (explorer.core.lab.to_scan): shown and run in the workbench."""
        if self.scan is None:
            self._build_scan()  # torch is loaded: the spec was built with it
        self.tabs.setCurrentWidget(self.scan)
        self.scan.load_and_run(spec)
        self.log.add(f"opened in the scan workbench: {spec.title}")

    # -- closing ---------------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        save_window(self, self.settings, [self.body, self.lab])
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        if self.scan is not None:
            self.scan.close_workbench()
        loader = getattr(self, "_torch_loader", None)
        if loader is not None:
            loader.wait(10_000)
        if not self.session.shutdown(timeout_ms=1000):
            self.log.add("the training thread did not stop within a second; waiting for it")
            self.session.shutdown(timeout_ms=10_000)
        self.testing.shutdown()
        self.forms.shutdown()  # the custom cell's live check
        self.runs.sweeps.shutdown()
        self.runs.shutdown()
        self.plots.timer.stop()
        self.status_timer.stop()
        super().closeEvent(event)

