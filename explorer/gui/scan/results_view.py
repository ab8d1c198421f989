"""A finished run: the result beside what the source prints, every output per step (table
and plot, one tab each), and a step slider that shows what step t read and returned."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QSlider, QSpinBox, QTabWidget,
                               QVBoxLayout, QWidget)

from explorer.core.spec import ScanRun

from .fields import mono_font
from .output_panel import OutputPanel
from .stepdata import agreement, as_table, show, step_outputs, step_reads

OK, BAD = "#2e7d32", "#c62828"


class ResultsView(QWidget):
    """Shows one ScanRun; ``step_changed(t)`` when the user picks another step."""

    step_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run: ScanRun | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.panels: list[OutputPanel] = []
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.spin = QSpinBox()
        self.spin.setPrefix("step t = ")
        self.slider.valueChanged.connect(self.set_step)
        self.spin.valueChanged.connect(self.set_step)
        self.stepper = QWidget()
        steps = QHBoxLayout(self.stepper)
        steps.setContentsMargins(0, 0, 0, 0)
        steps.addWidget(QLabel("step"))
        steps.addWidget(self.slider, 1)
        steps.addWidget(self.spin)
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setFont(mono_font())
        self.detail.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.detail.setMinimumHeight(90)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addWidget(self.summary)
        box.addWidget(self.tabs, 3)
        box.addWidget(self.stepper)
        box.addWidget(self.detail, 1)
        box.addStretch(0)
        self.clear("Press Run (Ctrl+Enter) to run the scan; every output appears here, step by step.")

    # -- showing ----------------------------------------------------------------------
    def clear(self, message: str) -> None:
        self.run = None
        self.summary.setText(f"<span style='color:#555'>{html.escape(message)}</span>")
        self._set_range(0)  # the panels stay (hidden): the next run reuses their plot items
        self.detail.setPlainText("")
        for w in (self.tabs, self.stepper, self.detail):
            w.setVisible(False)

    def show_run(self, run: ScanRun) -> None:
        self.run = run
        self.summary.setText(self._summary(run))
        for w in (self.tabs, self.stepper, self.detail):
            w.setVisible(True)
        while len(self.panels) > len(run.outputs):
            self.tabs.removeTab(len(self.panels) - 1)
            self.panels.pop().deleteLater()
        while len(self.panels) < len(run.outputs):
            panel = OutputPanel()
            panel.step_picked.connect(self.set_step)
            self.panels.append(panel)
            self.tabs.addTab(panel, "")
        for k, (name, value) in enumerate(run.outputs.items()):
            self.tabs.setTabText(k, f"{name}  {tuple(value.shape)}")
            self.panels[k].show_output(name, as_table(value))
        self._set_range(run.steps)
        self.set_step(0, force=True)

    def _summary(self, run: ScanRun) -> str:
        spec = run.spec
        head = (f"ran <b>{run.steps:,}</b> step{'s' if run.steps != 1 else ''} in "
                f"{run.seconds * 1000:,.1f} ms")
        cells = []
        if run.result is not None:
            label = spec.result or next(iter(run.outputs), "result")
            value = show(run.result.cpu().numpy(), 40, max_lines=6)
            cells.append((f"result <code>{html.escape(label)}</code>", value))
        if spec.expected is not None:
            cells.append(("the source prints", show(_array(spec.expected), 40, max_lines=6)))
            agrees = agreement(run.result, spec.expected)
            head += ("&nbsp;&nbsp;<b style='color:%s'>%s</b>" %
                     ((OK, "✓ agrees with the source") if agrees else (BAD, "✗ differs from the source")))
        from explorer.core.spec.nonfinite import nonfinite_outputs

        for problem in nonfinite_outputs(run.outputs):  # an all-NaN output draws nothing: say so
            head += f"<br><b style='color:{BAD}'>⚠ {html.escape(str(problem))}</b>"
        heads = "".join(f"<td style='padding-right:18px'><b>{h}</b></td>" for h, _ in cells)
        values = "".join(f"<td style='padding-right:18px'><pre style='margin:0'>{html.escape(v)}</pre></td>"
                         for _, v in cells)
        return f"{head}<table style='margin-top:4px'><tr>{heads}</tr><tr>{values}</tr></table>"

    # -- the step slider ---------------------------------------------------------------
    def _set_range(self, steps: int) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(0, max(steps - 1, 0))
            w.setValue(0)
            w.setEnabled(steps > 0)
            w.blockSignals(False)

    def step(self) -> int:
        return self.spin.value()

    def set_step(self, t: int, force: bool = False) -> None:
        run = self.run
        if run is None or run.steps == 0:
            return
        t = min(max(int(t), 0), run.steps - 1)
        if t == self.spin.value() and self.slider.value() == t and not force:
            return
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setValue(t)
            w.blockSignals(False)
        for panel in self.panels:
            panel.set_step(t)
        self.detail.setPlainText(self._detail(run, t))
        self.step_changed.emit(t)

    def _detail(self, run: ScanRun, t: int) -> str:
        reads = step_reads(run, t)
        outs = step_outputs(run, t)
        width = max([len(r.name) for r in reads] + [len(n) for n, _ in outs] + [1])
        src = max([len(r.source) for r in reads] + [1])
        lines = [f"step {t}" + (" reads nothing" if not reads else " reads:")]
        for r in reads:
            lines.append(_indent(f"  {r.name:<{width}} ← {r.source:<{src}} = ", show(r.value)))
        lines.append("→ returns:")
        for name, value in outs:
            lines.append(_indent(f"  {name:<{width}} = ", show(value)))
        return "\n".join(lines)


def _indent(prefix: str, text: str) -> str:
    """``prefix`` then ``text``, later lines of ``text`` aligned under its first."""
    pad = "\n" + " " * len(prefix)
    return prefix + pad.join(text.splitlines())


def _array(value):
    import numpy as np

    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return np.asarray(str(value))
