"""The seed gallery: every scan preset with its title and source; the selected one's
description below; double-click or "Load into form" loads it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from explorer.core.presets import list_presets, load_preset


class Gallery(QWidget):
    """``load_requested(name)`` when the user asks to load a preset."""

    load_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.entries: dict[str, dict] = {}
        head = QLabel("<b>Examples</b> from the sources")
        self.list = QListWidget()
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setStyleSheet("QListWidget::item { padding: 4px 2px; border-bottom: 1px solid #eee; }"
                                "QListWidget::item:selected { background: #dbe8fb; color: black; }")
        for name in list_presets("scan"):
            data = load_preset("scan", name)
            self.entries[name] = data
            item = QListWidgetItem(f"{data.get('title') or name}\n{data.get('source', '')}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(f"<b>{name}</b><br>{data.get('description', '')}")
            item.setSizeHint(QSize(0, self.fontMetrics().lineSpacing() * 2 + 12))
            self.list.addItem(item)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.description.setStyleSheet("color: #333; background: #fafafa; border: 1px solid #e2e2e2; "
                                       "padding: 6px;")
        self.description.setMinimumHeight(self.fontMetrics().lineSpacing() * 6)
        self.load = QPushButton("Load into form")
        self.load.setToolTip("replace the form with this example (double-click does the same)")
        self.load.setEnabled(False)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(head)
        box.addWidget(self.list, 1)
        box.addWidget(self.description)
        box.addWidget(self.load)
        self.list.currentItemChanged.connect(self._preview)
        self.list.itemDoubleClicked.connect(lambda item: self.load_requested.emit(self._name(item)))
        self.load.clicked.connect(self._load_current)

    def names(self) -> list[str]:
        return list(self.entries)

    def select(self, name: str) -> None:
        """Highlight ``name`` (after it was loaded some other way)."""
        for row in range(self.list.count()):
            if self._name(self.list.item(row)) == name:
                self.list.blockSignals(True)
                self.list.setCurrentRow(row)
                self.list.blockSignals(False)
                self._preview(self.list.item(row))
                return

    def unselect(self) -> None:
        """Nothing highlighted (the form no longer shows a preset)."""
        self.list.blockSignals(True)
        self.list.setCurrentRow(-1)
        self.list.clearSelection()
        self.list.blockSignals(False)
        self._preview(None)

    def _name(self, item: QListWidgetItem | None) -> str:
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else ""

    def _preview(self, item: QListWidgetItem | None, _previous=None) -> None:
        name = self._name(item)
        data = self.entries.get(name, {})
        self.load.setEnabled(bool(name))
        self.description.setText(data.get("description", "") if name else "")

    def _load_current(self) -> None:
        name = self._name(self.list.currentItem())
        if name:
            self.load_requested.emit(name)
