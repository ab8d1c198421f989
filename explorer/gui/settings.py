"""Window geometry and state remembered between sessions (QSettings).

Anything unreadable (a value of the wrong type, bytes Qt refuses) is ignored and the
defaults stand: a bad settings file can never stop the app from opening.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

ORG, APP = "ScanExplorer", "Scan Explorer"
DEFAULT_SIZE = (1500, 950)


def app_settings() -> QSettings:
    return QSettings(ORG, APP)


def _bytes(value) -> QByteArray | None:
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, (bytes, bytearray)) and value:
        return QByteArray(bytes(value))
    return None


def restore_window(window: QMainWindow, settings: QSettings, splitters: list[QSplitter]) -> None:
    geometry = _bytes(settings.value("window/geometry"))
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(*DEFAULT_SIZE)
    state = _bytes(settings.value("window/state"))
    if state is not None:
        window.restoreState(state)
    for splitter in splitters:
        saved = _bytes(settings.value(f"window/{splitter.objectName()}"))
        if saved is not None:
            splitter.restoreState(saved)


def save_window(window: QMainWindow, settings: QSettings, splitters: list[QSplitter]) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    for splitter in splitters:
        settings.setValue(f"window/{splitter.objectName()}", splitter.saveState())


def text_value(settings: QSettings, key: str, default: str | None = None) -> str | None:
    value = settings.value(key)
    return value if isinstance(value, str) and value else default


def int_value(settings: QSettings, key: str, default: int = 0) -> int:
    value = settings.value(key)
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
