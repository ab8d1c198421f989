"""The input widgets of the scan form, and how a problem is marked on any of them.

- :class:`ExpressionEdit`: a monospace line for an expression or data; a problem with a
  column gets a red wavy underline from that column to the end of the word there.
- :class:`TapsEdit`: taps typed as ``-2, -1``; :meth:`TapsEdit.taps` parses them.
- :func:`mark` / :func:`unmark`: a red border and the message as tooltip, on any widget.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QFontDatabase, QInputMethodEvent, QTextCharFormat
from PySide6.QtWidgets import QLineEdit, QWidget

PROBLEM_COLOR = "#c62828"
_MARK_STYLE = f"border: 1px solid {PROBLEM_COLOR}; border-radius: 3px; background: #fff4f4;"
_WORD = re.compile(r"[A-Za-z0-9_.]+")


def mono_font():
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(font.StyleHint.Monospace)
    return font


class ExpressionEdit(QLineEdit):
    """A line for an expression (``tanh(x @ W + b)``) or data (``arange(5)``)."""

    def __init__(self, placeholder: str = "", tip: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setFont(mono_font())
        self.setPlaceholderText(placeholder)
        self.setToolTip(tip)
        self.setProperty("plainTip", tip)
        self.setMinimumWidth(80)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        """Set the text and show its start (a long expression reads from the left)."""
        super().setText(text)
        self.setCursorPosition(0)

    def underline(self, column: int | None) -> None:
        """Underline from ``column`` (1-based) to the end of the word there; None clears."""
        attrs = []
        if column is not None and self.text():
            start = min(max(column - 1, 0), len(self.text()) - 1)
            word = _WORD.match(self.text(), start)
            length = max(1, word.end() - start) if word else 1
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor(PROBLEM_COLOR))
            fmt.setBackground(QColor("#ffd9d9"))
            attrs.append(QInputMethodEvent.Attribute(QInputMethodEvent.AttributeType.TextFormat,
                                                     start - self.cursorPosition(), length, fmt))
        QCoreApplication.sendEvent(self, QInputMethodEvent("", attrs))

    def show_column(self, column: int | None) -> None:
        """Scroll (without focus) so the word at ``column`` shows: a long expression in a narrow
        field would hide its underline. A line being typed in is left alone."""
        text = self.text()
        if column is None or not text or self.hasFocus():
            return
        start = min(max(column - 1, 0), len(text) - 1)
        word = _WORD.match(text, start)
        end = word.end() if word else start + 1
        area = self.contentsRect().adjusted(4, 0, -4, 0)
        self.setCursorPosition(start)  # the view moves on the next paint; cursorRect reads where it is now
        left = self.cursorRect().center().x()
        self.setCursorPosition(end)
        right = self.cursorRect().center().x()
        if right > area.right():
            self.setCursorPosition(min(end + 4, len(text)))  # scrolls right: the word's end near the right edge
        elif left < area.left():
            self.setCursorPosition(max(start - 6, 0))  # scrolls left: a little of what comes before it

    def focus_column(self, column: int | None) -> None:
        self.setFocus()
        if column is not None:
            self.setCursorPosition(max(column - 1, 0))


class TapsEdit(ExpressionEdit):
    """Taps as text: ``-2, -1`` (for outputs) or ``0`` / ``-1, 0, 1`` (for sequences)."""

    def __init__(self, tip: str, parent: QWidget | None = None):
        super().__init__("-1", tip, parent)
        self.setMinimumWidth(50)
        self.setMaximumWidth(90)

    def taps(self) -> tuple[tuple[int, ...] | None, str | None]:
        """(taps, None) when the text parses, else (None, why not)."""
        parts = [p.strip() for p in self.text().replace(";", ",").split(",")]
        parts = [p for p in parts if p]
        if not parts:
            return None, "give at least one tap, e.g. -1"
        try:
            return tuple(int(p) for p in parts), None
        except ValueError:
            return None, f"'{self.text()}': write whole numbers separated by commas, e.g. -2, -1"

    def set_taps(self, taps) -> None:
        self.setText(", ".join(str(k) for k in taps))


def mark(widget: QWidget, message: str, column: int | None = None) -> None:
    """Show a problem on ``widget``: red border, message as tooltip, column underlined.

    The message and column stay readable as the widget's ``problem`` / ``problemColumn``
    properties (``None`` when it is clean).
    """
    if widget.property("plainTip") is None:
        widget.setProperty("plainTip", widget.toolTip())
    widget.setProperty("problem", message)
    widget.setProperty("problemColumn", column)
    widget.setStyleSheet(f"{type(widget).__name__} {{ {_MARK_STYLE} }}")
    text = html.escape(message)
    if column is not None and isinstance(widget, QLineEdit):
        caret = html.escape(widget.text()) + "<br>" + "&nbsp;" * (column - 1) + "^"
        text = f"<pre style='margin:0'>{caret}</pre>column {column}: {text}"
    widget.setToolTip(f"<b style='color:{PROBLEM_COLOR}'>Problem</b><br>{text}")
    if isinstance(widget, ExpressionEdit):
        widget.underline(column)


def unmark(widget: QWidget) -> None:
    if widget.property("problem") is None:
        return
    widget.setProperty("problem", None)
    widget.setProperty("problemColumn", None)
    widget.setStyleSheet("")
    tip = widget.property("plainTip")
    widget.setToolTip(tip or "")
    if isinstance(widget, ExpressionEdit):
        widget.underline(None)
