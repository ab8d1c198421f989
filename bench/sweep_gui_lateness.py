"""Does the window stay responsive while a sweep's worker processes train?

The window (xcb under a display, else offscreen) launches a sweep from its Runs panel with
``--workers`` worker processes (2 by default, on this 2-core machine); the trials' runs
are ticked as they appear, so the panel polls the store, reads their metrics and redraws
the overlays while they train. A 10 ms QTimer on the GUI thread records how late each tick
fires, from the launch until every worker has exited.

Target (issue 8): GUI timer lateness p99 < 50 ms while 2 workers run.

    xvfb-run -a python bench/sweep_gui_lateness.py [--preset seed000_hidden_size_quick] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="seed000_hidden_size_quick", help="a sweep preset or file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="steps per trial (default: the preset's)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")

    import dataclasses

    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.core.sweeps import load_definition
    from explorer.gui.main_window import MainWindow

    definition = load_definition(args.preset)
    if args.steps:
        definition = dataclasses.replace(definition, steps=args.steps)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        definition = dataclasses.replace(definition, name=f"{definition.name}-bench")
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(preset="default", settings=settings, workspace=os.path.join(tmp, "workspace"))
        window.resize(1500, 950)
        window.show()
        app.processEvents()
        lateness, last = [], [time.perf_counter()]

        def on_tick():
            now = time.perf_counter()
            lateness.append((now - last[0]) * 1000 - 10)
            last[0] = now

        tick = QTimer()
        tick.setInterval(10)
        tick.timeout.connect(on_tick)
        loop = QEventLoop()
        control = window.runs.sweeps
        control.finished.connect(lambda _: loop.quit())
        started = time.perf_counter()
        control.launch(definition, args.workers)
        tick.start()
        loop.exec()
        tick.stop()
        took = time.perf_counter() - started
        late = np.array(lateness[5:])
        status = control.status
        shown = len(window.runs.ticked)
        window.close()
    print(f"sweep {args.preset}: {status.done}/{status.total} trials ({status.failed} failed) with "
          f"{args.workers} worker processes in {took:.1f} s, {shown} runs overlaid live; "
          f"platform {os.environ['QT_QPA_PLATFORM']}, {os.cpu_count()} cores")
    print(f"GUI timer lateness over {len(late)} ticks: p50 {np.percentile(late, 50):.1f} ms, "
          f"p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms (target p99 < 50 ms)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
