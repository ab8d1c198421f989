"""The Scan tab: gallery | form (signature on top, problems below) | unrolled view + results.

Lays the parts out and connects them; the parts do the work:
:class:`ScanForm` (spec <-> widgets), :class:`LiveCheck` (debounced ``check``),
:class:`FieldMarker` / :class:`ProblemList` (problems on fields), :class:`SignatureView`,
:class:`UnrolledView`, :class:`ResultsView`, :class:`Gallery` and :class:`ScanRunner`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QFileDialog, QHBoxLayout, QLabel, QProgressBar,
                               QScrollArea, QSizePolicy, QSplitter, QToolBar, QVBoxLayout, QWidget)

from explorer.core.errors import ConfigError, FieldProblem
from explorer.core.presets import load_preset, read_json
from explorer.core.spec import ScanRun, ScanSpec
from explorer.core.spec.model import OutputSpec, SequenceSpec, dump_json

from .fields import ExpressionEdit
from .form import ScanForm
from .function_help import FunctionHelp
from .gallery import Gallery
from .live_check import LiveCheck, Verdict
from .problems import FieldMarker, ProblemList, problem_text
from .results_view import ResultsView
from .runner import ScanRunner
from .signature_view import SignatureView
from .stepdata import agreement, step_count
from .unrolled_view import UnrolledView


class ScanWorkbench(QWidget):
    """Build a scan in a form, see its signature and unrolled steps, run it, inspect it."""

    message = Signal(str)  # for the window's log / status bar
    alert = Signal(str, str)  # title, text: a problem the user must see (a dialog)
    run_finished = Signal(object)  # the ScanRun
    run_failed = Signal(str)  # why the run failed (a later step's shape, an exception...)
    run_cancelled = Signal(str)
    busy = Signal(bool)  # a run started (True) / ended (False)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.form = ScanForm()
        self.signature_view = SignatureView()
        self.problems = ProblemList()
        self.unrolled = UnrolledView()
        self.results = ResultsView()
        self.gallery = Gallery()
        self.runner = ScanRunner(self)
        self.checker = LiveCheck(self.form.read, self)
        self._run_pending = False  # Run pressed; starts when the check on the worker passes
        self.marker = FieldMarker(self.form.widget_for)
        self._functions: FunctionHelp | None = None  # made on first use
        self._last_expression: ExpressionEdit | None = None  # where a chosen function goes
        self._edited_from: str | None = None  # the loaded program's title once the form changed it
        self._run_when_stopped = False  # load_and_run while a run of the old program was stopping
        self._build_toolbar()
        self._build_layout()
        self._connect()
        self.set_spec(ScanSpec.from_dict(load_preset("scan", self.gallery.names()[0])))
        self.gallery.select(self.gallery.names()[0])

    # -- layout -----------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.examples_action = QAction("Examples", self, checkable=True, checked=True,
                                       toolTip="show or hide the gallery of examples")
        self.run_action = QAction("▶ Run", self, toolTip="run the scan (Ctrl+Enter)")
        self.cancel_action = QAction("■ Cancel", self, toolTip="stop the running scan", enabled=False)
        self.new_action = QAction("New", self, toolTip="start an empty scan program")
        self.open_action = QAction("Open…", self, toolTip="open a scan spec (.json)")
        self.save_action = QAction("Save…", self, toolTip="save this scan spec as .json")
        self.help_action = QAction("ƒ Functions…", self, toolTip="the expression language: every function")
        for action in (self.examples_action, None, self.run_action, self.cancel_action, None,
                       self.new_action, self.open_action, self.save_action, None, self.help_action):
            self.toolbar.addSeparator() if action is None else self.toolbar.addAction(action)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setMinimumWidth(180)
        self.status = QLabel()
        self.status.setStyleSheet("color: #444; padding-left: 8px;")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._progress_action = self.toolbar.addWidget(self.progress)  # a toolbar widget shows via its action
        self._progress_action.setVisible(False)

    def _build_layout(self) -> None:
        self._scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(4, 0, 4, 0)
        col.addWidget(self.signature_view)
        col.addWidget(scroll, 1)
        col.addWidget(self.problems)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.unrolled)
        right.addWidget(self.results)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        right.setSizes([400, 440])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for w in (self.gallery, left, right):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 1)
        self.splitter.setSizes([220, 600, 580])
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(self.toolbar)
        top.addWidget(self.status, 1)
        box.addLayout(top)
        box.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.form.edited.connect(self._edited)
        self.checker.checked.connect(self._show_verdict)
        self.checker.previewed.connect(self._show_preview)
        self.problems.chosen.connect(self._focus_problem)
        self.gallery.load_requested.connect(self.load_preset)
        self.examples_action.toggled.connect(self.gallery.setVisible)
        self.run_action.triggered.connect(self.run)
        self.cancel_action.triggered.connect(self.cancel)
        self.new_action.triggered.connect(self.new_scan)
        self.open_action.triggered.connect(self._open_dialog)
        self.save_action.triggered.connect(self._save_dialog)
        self.help_action.triggered.connect(self._show_functions)
        QApplication.instance().focusChanged.connect(self._focus_changed)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.run)
        self.runner.running_changed.connect(self._running)
        self.runner.progressed.connect(self.progress.setValue)
        self.runner.finished.connect(self._finished)
        self.runner.problems.connect(self._run_problems)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.failed.connect(self._failed)
        self.message.connect(self.status.setText)

    # -- the spec ---------------------------------------------------------------------
    def spec(self) -> ScanSpec:
        """The spec the form shows; ConfigError when a field cannot be read (taps text)."""
        return self.form.spec()

    def set_spec(self, spec: ScanSpec) -> None:
        """Show ``spec`` in the form (a running scan of the old one is cancelled)."""
        if self.runner.is_running():
            self.runner.cancel()
        self.gallery.unselect()
        self.form.set_spec(spec)
        self.results.clear("Press Run (Ctrl+Enter) to run this scan.")
        self.checker.now()

    def load_and_run(self, spec: ScanSpec) -> None:
        """Show ``spec`` and run it (a trained model opened from the RNN lab); a run of the
        old program is cancelled first, and this one starts when it has stopped."""
        self.set_spec(spec)
        self._edited_from = None
        self._run_pending = False  # a Run pressed for the old program is not one for this
        if self.runner.is_running():
            self._run_when_stopped = True
        else:
            self.run()

    def new_scan(self) -> None:
        """An empty program: one sequence, one output fed back, ready to edit."""
        self.set_spec(ScanSpec(title="", sequences=(SequenceSpec("x", "[1, 2, 3, 4]"),),
                               outputs=(OutputSpec("y", "y + x", "0.0"),)))
        self._edited_from = None
        self.message.emit("a new scan: edit the sequence, the output's expression and its initial value")

    def load_preset(self, name: str) -> None:
        spec = ScanSpec.from_dict(load_preset("scan", name))
        self.set_spec(spec)
        self.gallery.select(name)
        self.message.emit(f"loaded example '{spec.title or name}'" + (f" ({spec.source})" if spec.source else ""))

    def signature_text(self) -> str:
        return self.signature_view.text()

    def _edited(self) -> None:
        spec, _ = self.form.read()
        origin = self.form.edited_from(spec)
        if origin != self._edited_from:
            self._edited_from = origin
            self.form.about.set_edited_from(origin)
            if origin:
                self.message.emit(f"edited from '{origin}': your own program now, so it is not compared "
                                  "with the source's numbers")
        self.signature_view.show_spec(spec)  # on every edit; the check waits for a pause
        self.checker.schedule()

    def _show_preview(self, verdict: Verdict) -> None:
        # the static checks passed; the values are being checked on a worker
        self.signature_view.show_spec(verdict.spec)
        self._enable()

    def _show_verdict(self, verdict: Verdict) -> None:
        self.signature_view.show_spec(verdict.spec)
        self._show_problems(verdict.problems, verdict.spec)
        if verdict.problems:
            self.unrolled.show_unavailable("The unrolled view appears when the form has no problems.")
        else:
            lengths = verdict.lengths or {}
            self.unrolled.show_spec(verdict.spec, lengths, step_count(verdict.spec, lengths))
        self._enable()
        if self._run_pending:  # Run was pressed while this check ran
            self._run_pending = False
            if not self._start_run(verdict):
                self.run_failed.emit(self.status.text())

    def _show_problems(self, problems: list[FieldProblem], spec: ScanSpec | None) -> None:
        self.marker.apply(problems)
        self.problems.show_problems(problems, spec)

    def _focus_problem(self, problem: FieldProblem) -> None:
        widget = self.form.widget_for(problem.field)
        if widget is None:
            return
        self._scroll.ensureWidgetVisible(widget)
        if hasattr(widget, "focus_column"):
            widget.focus_column(problem.column)
        else:
            widget.setFocus()

    def _focus_changed(self, _old, new) -> None:
        if isinstance(new, ExpressionEdit) and self.isAncestorOf(new):
            self._last_expression = new

    def _show_functions(self) -> None:
        if self._functions is None:
            self._functions = FunctionHelp(self)
            self._functions.chosen.connect(self._insert_function)
        self._place_beside(self._functions)
        self._functions.show()
        self._functions.raise_()

    def _place_beside(self, dialog: QWidget) -> None:
        """Put the reference next to the field being edited, never over it: on the side of the
        field (right, left, below or above) with the most room, shrunk to fit there."""
        target = self._last_expression
        try:
            anchor = target if target is not None and target.isVisible() else self.form
        except RuntimeError:  # its row was removed since
            anchor = self.form
        field = QRect(anchor.mapToGlobal(QPoint(0, 0)), anchor.size())
        screen = (anchor.screen() or QApplication.primaryScreen()).availableGeometry()
        gap, frame = 12, 40  # room for the window frame and title bar
        sides = [QRect(QPoint(field.right() + gap, screen.top()), screen.bottomRight()),
                 QRect(screen.topLeft(), QPoint(field.left() - gap, screen.bottom())),
                 QRect(QPoint(screen.left(), field.bottom() + gap), screen.bottomRight()),
                 QRect(screen.topLeft(), QPoint(screen.right(), field.top() - gap - frame))]
        want = dialog.size()
        room = max(sides, key=lambda r: min(r.width(), want.width()) * min(r.height(), want.height()))
        size = want.boundedTo(QSize(max(room.width(), 200), max(room.height() - frame, 150)))
        dialog.resize(size)
        x = room.left() if room.left() > field.left() or room.width() >= screen.width() else room.right() - size.width()
        y = min(max(room.top(), field.top() - 60), room.bottom() - size.height() - frame)
        dialog.move(max(x, screen.left()), max(y, room.top()))

    def _insert_function(self, text: str) -> None:
        target = self._last_expression
        try:
            if target is not None and target.isEnabled():
                target.insert(text)
                target.setFocus()
        except RuntimeError:  # its row was removed since
            self._last_expression = None

    # -- running ----------------------------------------------------------------------
    def run(self) -> bool:
        """Check the form now and start a run; False (nothing started) if it cannot run."""
        if self.runner.is_running() or self._run_pending:
            self.message.emit("a run is already going; cancel it first")
            return False
        verdict = self.checker.last if self.checker.is_current() else self.checker.now()
        if not verdict.complete:  # the values are checked on a worker: run when they pass
            self._run_pending = True
            self.message.emit("checking before the run…")
            return True
        return self._start_run(verdict)

    def _start_run(self, verdict: Verdict) -> bool:
        if verdict.problems:
            first = problem_text(verdict.problems[0], verdict.spec)
            n = len(verdict.problems)
            self.message.emit(f"cannot run: {n} problem{'s' if n > 1 else ''} to fix first — {first}")
            return False
        total = step_count(verdict.spec, verdict.lengths or {})
        self.progress.setRange(0, total or 0)  # unknown / zero: a busy bar
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m steps" if total else "running…")
        self.results.clear("Running… every output appears here when the run ends (Cancel stops it).")
        self.runner.start(verdict.spec)
        self.message.emit(f"running {verdict.spec.title or 'the scan'}…")
        return True

    def cancel(self) -> None:
        if self._run_pending:  # the run had not started: its check was still running
            self._run_pending = False
            self._cancelled("cancelled")
        elif self.runner.is_running():
            self.runner.cancel()
            self.message.emit("cancelling…")

    def is_running(self) -> bool:
        return self.runner.is_running()

    def _running(self, on: bool) -> None:
        self._progress_action.setVisible(on)
        self._enable()
        self.busy.emit(on)
        if not on and self._run_when_stopped:
            self._run_when_stopped = False
            QTimer.singleShot(0, self.run)  # after the old run's own signals (cancelled) are through

    def _enable(self) -> None:
        running = self.runner.is_running()
        verdict = self.checker.last
        self.run_action.setEnabled(not running and verdict is not None and verdict.complete
                                   and not verdict.problems)
        self.cancel_action.setEnabled(running)

    def _finished(self, run: ScanRun) -> None:
        self.results.show_run(run)
        agrees = agreement(run.result, run.spec.expected)
        verdict = {True: " — ✓ agrees with the source", False: " — ✗ differs from the source"}.get(agrees, "")
        from explorer.core.spec.nonfinite import nonfinite_outputs

        warnings = "".join(f" — ⚠ {problem}" for problem in nonfinite_outputs(run.outputs))
        self.message.emit(f"ran {run.steps:,} steps in {run.seconds * 1000:,.1f} ms" + verdict + warnings)
        self.run_finished.emit(run)

    def _run_problems(self, problems: list) -> None:
        spec, _ = self.form.read()
        self._show_problems(problems, spec)
        text = "; ".join(problem_text(p, spec) for p in problems)
        self.results.clear("The run stopped on a problem: it is marked on its field and listed under the form.")
        self.message.emit(f"the run stopped: {text}")
        self.run_failed.emit(text)

    def _cancelled(self, why: str) -> None:
        self.results.clear(f"The run was {why}. Press Run (Ctrl+Enter) to run again.")
        self.message.emit(f"run {why}")
        self.run_cancelled.emit(why)

    def _failed(self, message: str, trace: str) -> None:
        spec, _ = self.form.read()
        self._show_problems([FieldProblem("run", message)], spec)
        self.results.clear(f"The run failed: {message}")
        self.message.emit(f"the run failed: {message}")
        self.run_failed.emit(message)

    # -- files ------------------------------------------------------------------------
    def save(self, path: str | Path) -> bool:
        try:
            data = self.spec().to_dict()
            if data.get("expected") is None:
                data.pop("expected", None)  # no source numbers: none saved (an edited preset's are stale)
            Path(path).write_text(dump_json(data) + "\n", encoding="utf-8")  # an array's rows one per line
        except (ConfigError, OSError) as exc:
            self.message.emit(f"cannot save {path}: {exc}")
            return False
        self.message.emit(f"saved {path}")
        return True

    def open(self, path: str | Path) -> bool:
        """Load a spec file into the form; on a bad file say why and change nothing."""
        try:
            spec = ScanSpec.from_dict(read_json(path))
        except (ConfigError, OSError, ValueError) as exc:
            from ..file_actions import file_problem

            self.message.emit(f"cannot open the scan spec: {file_problem(path, exc)}")
            return False
        self.set_spec(spec)
        self.message.emit(f"opened {path}")
        return True

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open scan spec", "", "Scan spec (*.json);;All files (*)")
        if path and not self.open(path):
            self.alert.emit("Cannot open scan spec", self.status.text())

    def _save_dialog(self) -> None:
        name = "".join(c if c.isalnum() else "_" for c in (self.form.about.title.text() or "scan"))[:40]
        path, _ = QFileDialog.getSaveFileName(self, "Save scan spec", f"{name}.json", "Scan spec (*.json)")
        if path and not self.save(path):
            self.alert.emit("Cannot save scan spec", self.status.text())

    # -- closing ----------------------------------------------------------------------
    def close_workbench(self) -> bool:
        """Cancel a running scan and a running check, join their threads; True when none is left."""
        self._run_pending = False
        checks_done = self.checker.shutdown()
        return self.runner.shutdown() and checks_done

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.close_workbench()
        super().closeEvent(event)
