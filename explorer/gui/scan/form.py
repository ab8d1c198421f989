"""The scan form: every field of a ScanSpec, and the binding between the two.

``set_spec(spec)`` fills the widgets; ``read()`` gives back ``(spec, problems)`` where
``problems`` are only what the form itself cannot read (taps that are not numbers); every
other check is :func:`explorer.core.spec.check`'s. ``widget_for("outputs[1].expression")``
finds the widget a problem belongs to.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from explorer.core.errors import ConfigError, FieldProblem
from explorer.core.spec import NonSequenceSpec, OutputSpec, ScanSpec, SequenceSpec, StepVariable

from .array_rows import ArrayNonSequenceRow, ArraySequenceRow
from .rows import OutputRow, RowList, StepVariableRow
from .settings import AboutBox, LoopBox

# key, row type, title, what it is, text when empty
SECTIONS = [
    ("sequences", ArraySequenceRow, "Sequences",
     "Walked along their first axis: step t gets element t (taps pick other elements).",
     "No sequences: the scan runs a fixed number of steps (set 'steps' below)."),
    ("outputs", OutputRow, "Outputs",
     "Computed at every step and stacked over the steps. A fed-back output's past values "
     "are inputs of the next step.",
     "No outputs yet: add one, the value each step computes."),
    ("non_sequences", ArrayNonSequenceRow, "Non-sequences",
     "Passed whole and unchanged to every step, after the sequences and outputs (weights, constants).",
     "None."),
    ("step_variables", StepVariableRow, "Step variables",
     "Named intermediates computed at each step, in order, before the outputs.",
     "None."),
]
_PATH = re.compile(r"^(?P<key>\w+)(?:\[(?P<i>\d+)\](?:\.(?P<field>\w+))?)?$")
_ARRAY_PART = re.compile(r"\.array\b.*$")  # "non_sequences[0].array.values[3]": shown on the row's summary
_ARRAY_SHOWN_IN = {"sequences": "data", "non_sequences": "value"}
_NEW = {"sequences": lambda n: SequenceSpec(n, "arange(5)"),
        "outputs": lambda n: OutputSpec(n, "", "0.0"),
        "non_sequences": lambda n: NonSequenceSpec(n, "1.0"),
        "step_variables": lambda n: StepVariable(n, "")}


class ScanForm(QWidget):
    """Every field of a ScanSpec as widgets; emits ``edited`` on any change."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._extras = dict(expected=None, order=1000)  # carried through, not edited
        self._origin: ScanSpec | None = None  # the program as loaded (a preset's, a file's)
        self._origin_title = ""  # its title
        self._loading = False
        self.about = AboutBox()
        self.loop = LoopBox()
        self.lists: dict[str, RowList] = {}
        self.groups: dict[str, QGroupBox] = {}
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8)
        box.addWidget(self.about)
        for key, row_type, title, what, empty in SECTIONS:
            rows = RowList(row_type, key, empty)
            rows.edited.connect(self._changed)
            self.lists[key] = rows
            self.groups[key] = self._group(key, title, what, rows)
            box.addWidget(self.groups[key])
        loop = QGroupBox("Loop")
        QVBoxLayout(loop).addWidget(self.loop)
        self.groups["loop"] = loop
        box.addWidget(loop)
        box.addStretch(1)
        self.about.edited.connect(self._changed)
        self.loop.edited.connect(self._changed)

    def _group(self, key: str, title: str, what: str, rows: RowList) -> QGroupBox:
        group = QGroupBox(title)
        lay = QVBoxLayout(group)
        lay.setSpacing(4)
        hint = QLabel(what)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        lay.addWidget(hint)
        lay.addWidget(rows)
        add = QPushButton("+ Add " + title.lower().rstrip("s"))
        add.setObjectName(f"add_{key}")
        add.setToolTip(f"add a row to {title.lower()}")
        add.clicked.connect(lambda: self.add_row(key))
        line = QHBoxLayout()
        line.addWidget(add)
        line.addStretch(1)
        lay.addLayout(line)
        return group

    # -- spec <-> widgets -------------------------------------------------------------
    def set_spec(self, spec: ScanSpec) -> None:
        self._loading = True
        try:
            self._extras = dict(expected=spec.expected, order=spec.order)
            self._origin = None
            self.about.write(spec)
            self.loop.write(spec)
            for key, rows in self.lists.items():
                rows.set_items(getattr(spec, key))
        finally:
            self._loading = False
        self._origin = self.read()[0]  # as the widgets give it back: the baseline for "edited"
        self._origin_title = spec.title
        self.edited.emit()

    def read(self) -> tuple[ScanSpec, list[FieldProblem]]:
        """The spec the form shows, and the fields the form itself cannot read."""
        parts, problems = {}, []
        for key, rows in self.lists.items():
            parts[key], issues = rows.items()
            problems += issues
        spec = ScanSpec(**self.about.read(), **parts, **self.loop.read(), **self._extras)
        if spec.expected is not None and self.edited_from(spec):
            spec = spec.replace(expected=None)  # the source's numbers are another program's now
        return spec, problems

    def edited_from(self, spec: ScanSpec) -> str | None:
        """The title of the loaded program when ``spec`` computes something else (its
        sequences, outputs, expressions or loop changed; title and notes do not count). An
        untitled program (New) is the user's own from the start: None."""
        origin = self._origin
        if origin is None or not self._origin_title or _program(spec) == _program(origin):
            return None
        return self._origin_title or "the loaded scan"

    def spec(self) -> ScanSpec:
        spec, problems = self.read()
        if problems:
            raise ConfigError(problems)
        return spec

    def add_row(self, key: str, item=None):
        """Add a row to section ``key`` (a fresh one with a free name when ``item`` is None)."""
        if item is None:
            taken = {f.text() for rows in self.lists.values() for r in rows.rows for f in [r.fields["name"]]}
            names = self.lists[key].row_type.NAMES
            name = next((n for n in names if n not in taken),
                        next(f"{names[0]}{k}" for k in range(2, 10_000) if f"{names[0]}{k}" not in taken))
            item = _NEW[key](name)
        row = self.lists[key].add_row(item)
        row.fields["name"].setFocus()
        return row

    def widget_for(self, path: str) -> QWidget | None:
        """The widget showing field ``path`` (``outputs[1].expression``, ``n_steps``...)."""
        m = _PATH.match(_ARRAY_PART.sub(".array", path))
        if not m:
            return None
        key, index, field = m.group("key"), m.group("i"), m.group("field")
        if field == "array":
            field = _ARRAY_SHOWN_IN.get(key, field)
        if key in self.lists:
            if index is None:
                return self.groups[key]
            return self.lists[key].field_widget(int(index), field or "name")
        if index is None:
            if key in ("title", "source", "description"):
                return getattr(self.about, key)
            return self.loop.field_widget(key)
        return None

    def _changed(self) -> None:
        if not self._loading:
            self.edited.emit()


def _program(spec: ScanSpec) -> ScanSpec:
    """``spec`` without what does not change its numbers (its name, notes, gallery place)."""
    return spec.replace(title="", description="", source="", expected=None, order=0)
