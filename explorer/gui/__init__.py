"""The PySide6 + pyqtgraph views. Imported only when a window is asked for."""
