"""Is the window responsive while it trains, and does training in it keep its speed?

1. Headless: the preset's training generator run to the end in this process; wall-clock
   steps/s from the first step to the last.
2. In the window (xcb under a display, else offscreen): the same preset via Play, with
   a 10 ms QTimer on the GUI thread recording how late each tick fires; wall-clock
   steps/s from the trainer being ready to the last report.

Targets (PRODUCT.md): timer lateness p99 < 50 ms; window steps/s >= 90% of headless.

    xvfb-run -a python bench/gui_responsiveness.py [--preset default] [--steps 3000]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time

import numpy as np


def headless(config) -> float:
    from explorer.core.lab.training import Trainer

    trainer = Trainer(config)
    start, steps = None, 0
    for report in trainer.reports():
        if start is None:
            start = time.perf_counter()
        steps = report.step
    return (steps - 1) / (time.perf_counter() - start)


def in_window(config) -> tuple[float, np.ndarray, int]:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.gui.main_window import MainWindow
    from explorer.gui.session import DONE

    app = QApplication.instance() or QApplication([])
    workspace = tempfile.mkdtemp(prefix="gui-bench-")  # its runs are recorded here, not in the user's workspace
    window = MainWindow(preset="default", settings=QSettings(os.path.join(workspace, "settings.ini"),
                                                             QSettings.Format.IniFormat),
                        workspace=os.path.join(workspace, "runs"))
    window.resize(1500, 950)
    window.show()
    app.processEvents()
    window.forms.set_config(config)

    lateness, marks = [], {}
    tick = QTimer()
    tick.setInterval(10)
    last = [time.perf_counter()]

    def on_tick():
        now = time.perf_counter()
        lateness.append((now - last[0]) * 1000 - 10)
        last[0] = now

    tick.timeout.connect(on_tick)
    window.session.ready.connect(lambda _: marks.setdefault("ready", time.perf_counter()))
    window.session.state_changed.connect(lambda s: marks.setdefault("done", time.perf_counter()) if s == DONE else None)
    loop = QEventLoop()  # wait as the app does: asleep in Qt's event loop
    window.session.state_changed.connect(lambda s: loop.quit() if s == DONE else None)
    window.play()
    tick.start()
    loop.exec()
    tick.stop()
    steps = window.session.final.step
    speed = (steps - 1) / (marks["done"] - marks["ready"])
    frames = window.plots.frames
    window.close()
    return speed, np.array(lateness[5:]), frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")

    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.presets import load_preset

    config = ExperimentConfig.from_dict(load_preset("train", args.preset))
    if args.steps:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=args.steps))
    print(f"preset {args.preset}: {config.model.cell} {config.model.hidden_size}, batch "
          f"{config.train.batch_size}, {config.train.steps} steps, platform {os.environ['QT_QPA_PLATFORM']}")
    base = headless(config)
    speed, late, frames = in_window(config)
    again = headless(config)  # the machine may drift: bracket the window run
    ref = (base + again) / 2
    print(f"headless: {base:.0f} and {again:.0f} steps/s (mean {ref:.0f})")
    print(f"in the window: {speed:.0f} steps/s = {100 * speed / ref:.0f}% of headless (target >= 90%), "
          f"{frames} plot frames")
    print(f"GUI timer lateness over {len(late)} ticks: p50 {np.percentile(late, 50):.1f} ms, "
          f"p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms (target p99 < 50 ms)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
