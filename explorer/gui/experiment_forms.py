"""The Task | Model | Training forms, bound to an ExperimentConfig in both directions.

``config()`` builds the config from the widgets and marks every problem on its field
(parse errors first, then the config's own validation); while a run is going only the
learning rate and the clip norm stay editable, and valid edits of those two are sent out
as ``live_edit`` so the trainer picks them up on its next step. Under the Model tab's fields,
the custom cell's editor (:class:`~.custom_cell_form.CustomCellEditor`) shows while
``cell`` is ``custom``; its problems (``model.custom...``) are marked there.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QScrollArea, QTabWidget, QVBoxLayout, QWidget

from explorer.core.errors import ConfigError, FieldProblem
from explorer.core.lab.config import ExperimentConfig, field_problems
from explorer.core.lab.custom_cell import CustomCell

from .config_form import ConfigForm
from .custom_cell_form import CustomCellEditor

LIVE_FIELDS = {"lr", "clip_norm"}  # train fields a running trainer accepts (TrainControl)
TABS = (("task", "Task"), ("model", "Model"), ("train", "Training"))
CELL_CONTEXT = {("task", "name"), ("model", "hidden_size"), ("model", "layers")}  # what the cell's dry run reads


class ExperimentForms(QTabWidget):
    edited = Signal()  # any user edit
    live_edit = Signal(str, float)  # ("lr" | "clip_norm", value), valid, while running

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.forms: dict[str, ConfigForm] = {}
        self.cell_editor = CustomCellEditor(self._cell_context)
        self.cell_editor.edited.connect(self.edited)
        self.cell_editor.checked.connect(lambda _: self._show_tab_marks())
        self._marked: set[str] = set()  # sections with a problem marked on a form field
        for key, title in TABS:
            form = ConfigForm(key, ExperimentConfig.SECTIONS[key])
            form.edited.connect(lambda name, k=key: self._on_edit(k, name))
            page: QWidget = form
            if key == "model":  # the ordinary fields, then the custom cell under them
                page = QWidget()
                column = QVBoxLayout(page)
                column.setContentsMargins(0, 0, 0, 0)
                column.addWidget(form)
                column.addWidget(self.cell_editor)
                column.addStretch(1)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            self.addTab(scroll, title)
            self.forms[key] = form
        self._running = False
        self._base = ExperimentConfig()  # title/description come from here
        self.set_config(self._base)

    # -- config in and out ----------------------------------------------------------------------
    def set_config(self, config: ExperimentConfig) -> None:
        self._base = config
        for key, form in self.forms.items():
            form.set_values(getattr(config, key))
        self.cell_editor.set_cell(config.model.custom)
        self._show_task_fields()
        self._show_cell_editor()
        self.mark([])

    def config(self) -> tuple[ExperimentConfig | None, list[FieldProblem]]:
        """The config the forms describe, or None and every problem (also marked)."""
        data = {"title": self._base.title, "description": self._base.description}
        problems: list[FieldProblem] = []
        for key, form in self.forms.items():
            values, bad = form.values()
            base = dataclasses.asdict(getattr(self._base, key))
            data[key] = {**{k: v for k, v in base.items() if k not in form.fields}, **values}  # unformed fields kept
            problems += bad
        custom = data["model"].get("cell") == "custom"
        if custom:  # the edited cell (another cell keeps the loaded one, as the file had it)
            cell, bad = self.cell_editor.cell()
            data["model"]["custom"] = dataclasses.asdict(cell) if cell is not None else None
            problems += bad
        config = None
        if not problems:
            try:
                config = ExperimentConfig.from_dict(data)
            except ConfigError as exc:
                problems = exc.problems
        if config is not None and custom:  # the last dry run of step 0, when it is about this cell
            problems = self.cell_editor.dry_run_problems()
            config = None if problems else config
        self.mark(problems)
        return config, problems

    def mark(self, problems: list[FieldProblem]) -> None:
        by_section: dict[str, dict[str, str]] = {key: {} for key in self.forms}
        for p in problems:
            section, _, name = p.field.partition(".")
            if section in by_section and name in self.forms[section].editors:
                by_section[section].setdefault(name, p.message)
        for key, form in self.forms.items():
            form.mark(by_section[key])
        self.cell_editor.mark(problems)  # model.custom...: on the cell's own fields
        self._marked = {key for key, marks in by_section.items() if marks}
        self._show_tab_marks()

    def _show_tab_marks(self) -> None:
        cell = not self.cell_editor.isHidden() and self.cell_editor.has_problems()
        for i, (key, title) in enumerate(TABS):
            self.setTabText(i, f"{title} ⚠" if key in self._marked or (key == "model" and cell) else title)

    # -- running ------------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        """While training, only the learning rate and the clip norm can change."""
        self._running = running
        for key, form in self.forms.items():
            form.set_enabled_fields(LIVE_FIELDS if key == "train" and running else (set() if running else None))
        self.cell_editor.set_read_only(running)

    def shutdown(self, ms: int = 5000) -> bool:
        """Stop the custom cell's live check and join its thread; True when none is left."""
        return self.cell_editor.shutdown(ms)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API; the forms on their own (the window calls shutdown)
        self.shutdown()
        super().closeEvent(event)

    def _on_edit(self, section: str, name: str) -> None:
        if section == "task" and name == "name":
            self._show_task_fields()
        if section == "model" and name == "cell":
            self._show_cell_editor(fill=True)
        if (section, name) in CELL_CONTEXT:
            self.cell_editor.schedule_check()
        if self._running and section == "train" and name in LIVE_FIELDS:
            value, problems = self.forms["train"].values()
            number = value.get(name)
            # the same check as files, forms and the trainer's control (config.field_problems)
            problems = [p for p in problems if p.field == f"train.{name}"] if number is None else \
                field_problems("train", name, number)
            self.mark(problems)
            if not problems:
                self.live_edit.emit(name, float(number))
        self.edited.emit()

    def _show_cell_editor(self, fill: bool = False) -> None:
        """The cell's editor shows while cell = custom; choosing custom with no cell yet (``fill``)
        starts from the default custom cell, a vanilla RNN."""
        custom = self.forms["model"].value("cell") == "custom"
        if custom and fill and not self.cell_editor.has_cell():
            self.cell_editor.set_cell(CustomCell())
        self.cell_editor.setVisible(custom)
        self.cell_editor.set_active(custom)
        self._show_tab_marks()

    def _cell_context(self) -> tuple[str, int, int] | None:
        """(task, hidden size, layers) for the cell's dry run; None while one cannot be read."""
        task = self.forms["task"].value("name")
        model, _ = self.forms["model"].values()
        hidden, layers = model.get("hidden_size"), model.get("layers")
        if hidden is None or layers is None or field_problems("model", "hidden_size", hidden) or \
                field_problems("model", "layers", layers):
            return None
        return task, hidden, layers

    def _show_task_fields(self) -> None:
        task = self.forms["task"].value("name")
        fields = dataclasses.fields(ExperimentConfig.SECTIONS["task"])
        self.forms["task"].set_visible_fields(
            {f.name for f in fields if task in f.metadata.get("tasks", (task,))})
