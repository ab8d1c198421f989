"""The RNN lab page: preset picker and forms on the left, live plots in the centre, side
panels on the right in tabs (the qualitative testing panel; a Runs panel can join it with
``add_side_panel(widget, "Runs")``). Layout only; the window wires it to the session."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget

from explorer.core.errors import ExplorerError
from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import list_presets, load_preset

from .experiment_forms import ExperimentForms
from .plots.panel import PlotPanel
from .run_data import RunData


def preset_title(name: str, data: dict) -> str:
    """A preset as the window lists it: its title and the name the CLI takes."""
    title = data.get("title") or name
    return title if title == name else f"{title} ({name})"


class PresetPicker(QWidget):
    """Training presets by title, with the chosen one's description."""

    chosen = Signal(str)  # preset name

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip("Load a training preset into the forms")
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setStyleSheet("color: #505050; font-size: 11px;")
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.about.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Preset</b>"))
        layout.addWidget(self.combo)
        layout.addWidget(self.about)
        self.presets = {name: load_preset("train", name) for name in list_presets("train")}
        for name, data in self.presets.items():
            self.combo.addItem(preset_title(name, data), name)
            self.combo.setItemData(self.combo.count() - 1, f"python main.py --preset {name}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.activated.connect(lambda i: self.chosen.emit(self.combo.itemData(i)))

    def show_preset(self, name: str | None) -> None:
        i = self.combo.findData(name) if name else -1
        self.combo.setCurrentIndex(i)
        self.about.setText(self.presets[name].get("description", "") if name in self.presets else "")
        self._fit_text()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_text()

    def _fit_text(self) -> None:
        # a word-wrapped label inside a splitter does not ask for its height: give it
        self.about.setMinimumHeight(self.about.heightForWidth(max(self.about.width(), 240)))

    def config(self, name: str) -> ExperimentConfig:
        if name not in self.presets:
            raise ExplorerError(f"no training preset named {name!r}; presets: {', '.join(self.presets)}")
        return ExperimentConfig.from_dict(self.presets[name])


class LabPage(QSplitter):
    def __init__(self, data: RunData, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.presets = PresetPicker()
        self.forms = ExperimentForms()
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.presets)
        column.addWidget(self.forms, 1)
        left.setMinimumWidth(280)
        self.plots = PlotPanel(data)
        self.side = QTabWidget()  # right of the plots: Testing (and Runs, ...)
        self.side.setObjectName("side_tabs")
        self.side.tabBar().setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a click takes focus
        self.side.setMinimumWidth(340)
        self.addWidget(left)
        self.addWidget(self.plots)
        self.addWidget(self.side)
        self.setStretchFactor(0, 0)
        self.setStretchFactor(1, 1)
        self.setStretchFactor(2, 0)
        self.setCollapsible(1, False)
        self.setSizes([330, 900, 400])
        self.setObjectName("lab_splitter")

    def add_side_panel(self, widget: QWidget, title: str = "Testing") -> int:
        """A panel in the right-hand tabs (the testing panel, a Runs panel); its tab index."""
        return self.side.addTab(widget, title)
