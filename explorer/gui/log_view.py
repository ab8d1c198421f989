"""The log at the bottom of the window: timestamped lines, bounded, selectable."""

from __future__ import annotations

import time

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit

MAX_LINES = 5000


class LogView(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(9)
        self.setFont(font)

    def add(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        for i, line in enumerate(text.rstrip().splitlines() or [""]):
            self.appendPlainText(f"{stamp}  {line}" if i == 0 else f"          {line}")
