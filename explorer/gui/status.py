"""The status bar: device, state, steps/s, step count and a progress bar.

Refreshed a few times a second, and a widget is touched only when what it shows changes:
every ``setText`` relays out and repaints the bar, and on a busy 2-core machine updating it
at the plots' 30 Hz cost the training thread 5% of its speed.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from .run_data import RunData


class StatusBar(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.device = QLabel("device: —")
        self.state = QLabel("idle")
        self.speed = QLabel("")
        self.steps = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        for w in (self.state, self.speed, self.steps):
            w.setMinimumWidth(90)
        self.addPermanentWidget(self.state)
        self.addPermanentWidget(self.speed)
        self.addPermanentWidget(self.steps)
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.device)
        self.total: int | None = None

    def set_device(self, text: str) -> None:
        self.device.setText(f"device: {text}")

    def set_state(self, state: str, warning: str | None = None) -> None:
        """The run's state; a warning (a diverged run) shows in red, its text as a tooltip."""
        self.state.setText(f"⚠ {state}: diverged" if warning else state)
        self.state.setStyleSheet("color: #b00000; font-weight: bold;" if warning else "")
        self.state.setToolTip(warning or "")
        if warning:
            self.showMessage(f"⚠ {warning}", 30_000)

    def set_total(self, total: int | None) -> None:
        self.total = total
        self.progress.setVisible(bool(total))
        self.progress.setRange(0, 1000)  # per mille: the bar moves only when it shows a change
        self.progress.setValue(0)

    def refresh(self, data: RunData) -> None:
        last = data.last
        if last is None:
            _set(self.speed, "")
            _set(self.steps, "")
            return
        if last.steps_per_s:
            _set(self.speed, f"{last.steps_per_s:,.0f} steps/s")
        total = last.total_steps or self.total
        _set(self.steps, f"step {last.step:,}" + (f" / {total:,}" if total else ""))
        if total:
            value = int(1000 * min(last.step, total) / total)
            if value != self.progress.value():
                self.progress.setValue(value)


def _set(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)
