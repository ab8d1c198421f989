"""The signature line: exactly what the step function receives, in order, and what the
names in expressions stand for. Updated on every edit of the form."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from explorer.core.spec import ScanSpec, argument_labels, describe
from explorer.core.spec.names import aliases

from .fields import mono_font


class SignatureView(QFrame):
    """``fn(y[t], p[T-1-t], x[t-1], W)`` in large monospace, then describe()'s lines."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("signatureView")
        self.setStyleSheet("#signatureView { background: #f4f7fb; border: 1px solid #c9d6e8; "
                           "border-radius: 4px; }")
        font = mono_font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.signature = QLabel()
        self.signature.setFont(font)
        self.signature.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signature.setWordWrap(True)
        self.signature.setToolTip("what the step function receives, in order: every tap of every "
                                  "sequence, every tap of every fed-back output, every non-sequence")
        self.details = QLabel()
        self.details.setFont(mono_font())
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setStyleSheet("color: #333;")
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 6, 10, 6)
        box.setSpacing(2)
        box.addWidget(self.signature)
        box.addWidget(self.details)

    def text(self) -> str:
        """The signature as plain text, e.g. ``fn(x[t], total[t-1])``."""
        return self.signature.text()

    def show_spec(self, spec: ScanSpec) -> None:
        lines = describe(spec)
        self.signature.setText(lines[0])
        names = [f"{name} = {what}" if name != what else name for name, what in argument_labels(spec)]
        names += [f"{plain} = {tap}" for plain, tap in aliases(spec).items()]
        rows = [html.escape(line) for line in lines[1:]]
        if names:
            rows.append("names: " + html.escape(",  ".join(names)))
        if spec.step_variables:
            rows.append("then computes: " + html.escape(", ".join(v.name for v in spec.step_variables)))
        self.details.setText("<br>".join(rows))
