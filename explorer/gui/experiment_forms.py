"""The Task | Model | Training forms, bound to an ExperimentConfig in both directions.

``config()`` builds the config from the widgets and marks every problem on its field
(parse errors first, then the config's own validation); while a run is going only the
learning rate and the clip norm stay editable, and valid edits of those two are sent out
as ``live_edit`` so the trainer picks them up on its next step.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QScrollArea, QTabWidget, QWidget

from explorer.core.errors import ConfigError, FieldProblem
from explorer.core.lab.config import ExperimentConfig, field_problems

from .config_form import ConfigForm

LIVE_FIELDS = {"lr", "clip_norm"}  # train fields a running trainer accepts (TrainControl)
TABS = (("task", "Task"), ("model", "Model"), ("train", "Training"))


class ExperimentForms(QTabWidget):
    edited = Signal()  # any user edit
    live_edit = Signal(str, float)  # ("lr" | "clip_norm", value), valid, while running

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.forms: dict[str, ConfigForm] = {}
        for key, title in TABS:
            form = ConfigForm(key, ExperimentConfig.SECTIONS[key])
            form.edited.connect(lambda name, k=key: self._on_edit(k, name))
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(form)
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
        self._show_task_fields()
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
        config = None
        if not problems:
            try:
                config = ExperimentConfig.from_dict(data)
            except ConfigError as exc:
                problems = exc.problems
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
        for i, (key, title) in enumerate(TABS):
            self.setTabText(i, f"{title} ⚠" if by_section[key] else title)

    # -- running ------------------------------------------------------------------------------
    def set_running(self, running: bool) -> None:
        """While training, only the learning rate and the clip norm can change."""
        self._running = running
        for key, form in self.forms.items():
            form.set_enabled_fields(LIVE_FIELDS if key == "train" and running else (set() if running else None))

    def _on_edit(self, section: str, name: str) -> None:
        if section == "task" and name == "name":
            self._show_task_fields()
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

    def _show_task_fields(self) -> None:
        task = self.forms["task"].value("name")
        fields = dataclasses.fields(ExperimentConfig.SECTIONS["task"])
        self.forms["task"].set_visible_fields(
            {f.name for f in fields if task in f.metadata.get("tasks", (task,))})
