"""Open the main window: show it first, load torch after.

torch takes 2-3 s to import here, so the window is built from Qt-only modules, shown,
painted, and only then is torch imported (on a background thread) for the scan
workbench; training imports it on its own thread when Play is first pressed.
"""

from __future__ import annotations

import os
import sys
import time


def run_window(args) -> int:
    started = time.perf_counter()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Scan Explorer")
    app.setOrganizationName("ScanExplorer")

    from .main_window import MainWindow

    window = MainWindow(preset=args.preset, scan_preset=args.scan_preset,
                        workspace=getattr(args, "workspace", None))
    window.show()
    app.processEvents()
    shown = time.perf_counter() - started
    window.log.add(f"window shown {shown:.2f} s after start-up began")
    if os.environ.get("SCAN_EXPLORER_REPORT_STARTUP"):
        print(f"window shown after {shown:.3f} s", flush=True)
    QTimer.singleShot(0, window.load_scan_workbench)
    if getattr(args, "play", False):
        QTimer.singleShot(100, window.play)
    if getattr(args, "screenshot", None):
        _schedule_screenshot(window, args.screenshot, args.screenshot_after)
    return app.exec()


def _schedule_screenshot(window, path: str, after_s: float) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def shoot():
        window.grab().save(path)
        window.close()
        QApplication.instance().quit()

    QTimer.singleShot(int(after_s * 1000), shoot)
