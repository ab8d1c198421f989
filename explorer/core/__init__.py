"""The Qt-free core: scan engine, expression language, scan specs, RNN lab.

Nothing under ``explorer.core`` may import Qt (PySide6, pyqtgraph); a test blocks Qt and
imports every module here to prove it.
"""
