"""A form over one frozen config dataclass, built from its field metadata.

Each field's ``metadata`` gives ``label``, ``help`` (tooltip) and ``choices`` (a combo
box); numbers are typed into line edits (``1e-2`` works) so a bad value stays visible and
is explained under the field instead of being clamped silently. The form knows nothing
about training: :class:`ExperimentForms` turns its values into an ExperimentConfig and
hands problems back to be marked.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget)

from explorer.core.errors import FieldProblem

ERROR_STYLE = "border: 1px solid #d03030; border-radius: 2px; background: #fff4f4;"


class ConfigForm(QWidget):
    """Widgets for the fields of ``cls`` (a dataclass); ``section`` prefixes field paths."""

    edited = Signal(str)  # field name

    def __init__(self, section: str, cls: type, parent: QWidget | None = None):
        super().__init__(parent)
        self.section, self.cls = section, cls
        self.fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("form", True)}  # form=False: kept as loaded
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        self._loading = False
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, f in self.fields.items():
            meta = f.metadata
            editor = self._editor(name, f)
            editor.setToolTip(meta.get("help", ""))
            error = QLabel()
            error.setWordWrap(True)
            error.setStyleSheet("color: #c02020; font-size: 11px;")
            error.hide()
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            box.addWidget(editor)
            box.addWidget(error)
            label = QLabel(meta.get("label", name))
            label.setToolTip(f"{section}.{name}: {meta.get('help', '')}")
            layout.addRow(label, cell)
            self.editors[name], self.errors[name], self.labels[name] = editor, error, label

    def _editor(self, name: str, f: dataclasses.Field) -> QWidget:
        choices = f.metadata.get("choices")
        if choices:
            box = QComboBox()
            box.addItems([str(c) for c in choices])
            box.currentTextChanged.connect(lambda _=None, n=name: self._changed(n))
            return box
        if isinstance(f.default, bool):
            check = QCheckBox()
            check.toggled.connect(lambda _=None, n=name: self._changed(n))
            return check
        edit = QLineEdit()
        if isinstance(f.default, (int, float)):
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.textEdited.connect(lambda _=None, n=name: self._changed(n))
        return edit

    def _changed(self, name: str) -> None:
        if not self._loading:
            self.edited.emit(name)

    # -- values in and out ------------------------------------------------------------------
    def set_values(self, obj: Any) -> None:
        """Show the fields of a dataclass instance (emits no ``edited``)."""
        self._loading = True
        try:
            for name, editor in self.editors.items():
                value = getattr(obj, name)
                if isinstance(editor, QComboBox):
                    editor.setCurrentText(str(value))
                elif isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                else:
                    editor.setText(_format(value))
        finally:
            self._loading = False

    def values(self) -> tuple[dict[str, Any], list[FieldProblem]]:
        """The typed values, and a problem for each field whose text is not a value."""
        values, problems = {}, []
        for name, editor in self.editors.items():
            default = self.fields[name].default
            if isinstance(editor, QComboBox):
                values[name] = editor.currentText()
            elif isinstance(editor, QCheckBox):
                values[name] = editor.isChecked()
            else:
                value, why = _parse(editor.text(), default)
                if why:
                    problems.append(FieldProblem(f"{self.section}.{name}", why))
                else:
                    values[name] = value
        return values, problems

    def value(self, name: str) -> Any:
        values, _ = self.values()
        return values.get(name)

    # -- marking ------------------------------------------------------------------------------
    def mark(self, problems: dict[str, str]) -> None:
        """Show ``{field name: message}`` under each field; clear the others."""
        for name, editor in self.editors.items():
            message = problems.get(name)
            label = self.errors[name]
            label.setText(message or "")
            label.setVisible(bool(message))
            editor.setStyleSheet(ERROR_STYLE if message else "")
            editor.setProperty("invalid", bool(message))

    def set_enabled_fields(self, names: set[str] | None) -> None:
        """Enable only ``names`` (None: all), e.g. learning rate and clipping while training."""
        for name, editor in self.editors.items():
            on = names is None or name in names
            editor.setEnabled(on)
            help_text = self.fields[name].metadata.get("help", "")
            editor.setToolTip(help_text if on else f"{help_text}\n(fixed while training: Stop or Reset to change it; "
                              "the learning rate and clip norm can change live)".lstrip())

    def set_visible_fields(self, names: set[str]) -> None:
        """Show only the fields in ``names`` (the others do not apply to this task)."""
        layout: QFormLayout = self.layout()
        for name in self.editors:
            layout.setRowVisible(self.labels[name], name in names)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}" if (value == 0 or 1e-4 <= abs(value) < 1e6) else f"{value:.6g}"
    return str(value)


def _parse(text: str, default: Any) -> tuple[Any, str | None]:
    text = text.strip().replace("_", "")
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return text, None
    if not text:
        return None, "is empty; type a number"
    try:
        number = float(text)
    except ValueError:
        return None, f"'{text}' is not a number" + (" (e.g. 1e-3)" if isinstance(default, float) else "")
    if isinstance(default, int):
        if not number.is_integer():
            return None, f"'{text}' is not a whole number"
        return int(number), None
    return number, None
