"""Sequence and non-sequence rows that may hold an array of numbers instead of an expression
(a trained model's weights, the probe sequence: :class:`~explorer.core.spec.ArraySpec`).

Such a row shows a read-only summary where the expression goes ("trained weights (rnn.
weight_hh_l0), 96×32, float32"), never the numbers; the array stays with the row through
edits of its name, its taps and the other rows, and :meth:`read` gives it back, so saving
writes it. A row without an array is the plain row of :mod:`.rows`.
"""

from __future__ import annotations

import math
from dataclasses import replace

from PySide6.QtGui import QColor, QPalette

from explorer.core.spec import ArraySpec

from .rows import NonSequenceRow, SequenceRow

ARRAY_TIP = ("{summary}: {count:,} numbers held in the spec itself (not an expression), so they are "
             "read-only here; they are saved with the spec. Remove the row (✕) to replace them.")


class _ArrayRow:
    """Mixin: the row's expression field (``TEXT_FIELD``) shows its array when it has one."""

    TEXT_FIELD: str

    array: ArraySpec | None = None

    def write(self, item) -> None:
        super().write(item)
        self.show_array(item.array)

    def read(self):
        item, issues = super().read()
        if self.array is None:
            return item, issues
        return replace(item, **{self.TEXT_FIELD: "", "array": self.array}), issues

    def show_array(self, array: ArraySpec | None) -> None:
        edit = self.fields[self.TEXT_FIELD]
        had = self.array is not None
        self.array = array
        if array is None:
            if had:  # back to a plain expression field
                edit.setReadOnly(False)
                edit.setPalette(QPalette())
                font = edit.font()
                font.setItalic(False)
                edit.setFont(font)
                edit.setText("")
                tip = edit.property("expressionTip") or ""
                edit.setToolTip(tip)
                edit.setProperty("plainTip", tip)
            return
        if not had:
            edit.setProperty("expressionTip", edit.property("plainTip"))
        edit.setReadOnly(True)
        palette = edit.palette()  # a palette, not a style sheet: marking a problem sets (and clears) that
        palette.setColor(QPalette.ColorRole.Base, QColor("#f1f3f5"))
        palette.setColor(QPalette.ColorRole.Text, QColor("#4a4f55"))
        edit.setPalette(palette)
        font = edit.font()
        font.setItalic(True)
        edit.setFont(font)
        edit.setText(array.summary())
        tip = ARRAY_TIP.format(summary=array.summary(), count=math.prod(array.shape))
        edit.setToolTip(tip)
        edit.setProperty("plainTip", tip)


class ArraySequenceRow(_ArrayRow, SequenceRow):
    TEXT_FIELD = "data"


class ArrayNonSequenceRow(_ArrayRow, NonSequenceRow):
    TEXT_FIELD = "value"
