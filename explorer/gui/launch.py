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
    from .platform_check import problem

    why = problem()
    if why is not None:  # Qt would abort with its own text; say what is missing and the fix
        print(why, file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Scan Explorer")
    app.setOrganizationName("ScanExplorer")

    from . import gc_policy
    from .main_window import MainWindow

    gc_policy.install()  # full garbage collections walk only what is new: no long GIL stalls
    window = MainWindow(preset=args.preset, scan_preset=args.scan_preset,
                        workspace=getattr(args, "workspace", None))
    window.show()
    app.processEvents()
    exposed = _wait_exposed(window, app)
    shown = time.perf_counter() - started
    window.log.add(f"window shown {shown:.2f} s after start-up began")
    if os.environ.get("SCAN_EXPLORER_REPORT_STARTUP"):
        print(f"window shown after {shown:.3f} s" if exposed else
              f"window NOT shown by the window system after {shown:.3f} s", flush=True)
    QTimer.singleShot(0, window.load_scan_workbench)
    if getattr(args, "play", False):
        QTimer.singleShot(100, window.play)
    if getattr(args, "screenshot", None):
        _schedule_screenshot(window, args.screenshot, args.screenshot_after)
    return app.exec()


def _wait_exposed(window, app, limit_s: float = 5.0) -> bool:
    """Process events until the window system shows the window (mapped and exposed on X),
    so the start-up time reported is the time to a window on screen; False if it never did."""
    deadline = time.perf_counter() + limit_s
    handle = window.windowHandle()
    while handle is not None and not handle.isExposed() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.005)
    return handle is not None and handle.isExposed()


def _schedule_screenshot(window, path: str, after_s: float) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def shoot():
        # the screen's pixels where it can give them (xcb: what the X server shows, dialogs
        # included); offscreen has no screen to read, so the window renders itself
        screen = window.screen()
        image = screen.grabWindow(0) if QApplication.platformName() == "xcb" and screen else None
        if image is None or image.isNull():
            image = window.grab()
        if not image.save(path):
            print(f"could not write the screenshot {path}", file=sys.stderr)
        window.close()
        QApplication.instance().quit()

    QTimer.singleShot(int(after_s * 1000), shoot)
