"""Screenshots of runs and sweeps in the window, on a real X server (xcb):

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" python tools/shot_runs.py OUT [--preset NAME]

Launches the sweep preset (default ``seed002_num_steps``: r2rt's three learning curves) from the
window with two worker processes, waits for it, and writes:
  20_sweeping.png      the sweep running, its curves streaming into the plots
  21_sweep_done.png    the three runs overlaid, with the task's reference lines
  22_sweep_smooth.png  the same with TensorBoard smoothing 0.9
  23_sweep_time.png    x axis by time
  24_results.png       the results view
  25_custom_cell.png   a custom-cell preset (one_unit_accumulator) trained, beside the sweep's runs
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication


def settle(app, ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def wait(app, test, seconds: float = 600) -> None:
    end = time.time() + seconds
    while not test() and time.time() < end:
        settle(app, 200)


def shoot(app, path: Path) -> None:
    settle(app, 600)
    app.primaryScreen().grabWindow(0).save(str(path))
    print("wrote", path, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--preset", default="seed002_num_steps")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from explorer.core.sweeps import load_definition
    from explorer.gui.main_window import MainWindow

    tmp = tempfile.mkdtemp(prefix="shot-runs-")
    settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(preset="default", settings=settings, workspace=str(Path(tmp) / "workspace"))
    w.setGeometry(app.primaryScreen().availableGeometry())
    w.show()
    settle(app, 800)

    control = w.runs.sweeps
    started = time.time()
    control.launch(load_definition(args.preset), args.workers)
    wait(app, lambda: len(w.runs.ticked) >= 1 and time.time() - started > 8, 120)
    shoot(app, args.out / "20_sweeping.png")
    done = []
    control.finished.connect(lambda _: done.append(True))
    wait(app, lambda: bool(done), 900)
    print(f"sweep {args.preset} finished in {time.time() - started:.0f} s", flush=True)
    w.runs.refresh()
    settle(app, 2500)
    shoot(app, args.out / "21_sweep_done.png")
    w.runs.smoothing.setValue(90)
    shoot(app, args.out / "22_sweep_smooth.png")
    w.runs.x_axis.setCurrentIndex(w.runs.x_axis.findData("time"))
    shoot(app, args.out / "23_sweep_time.png")
    w.runs.x_axis.setCurrentIndex(w.runs.x_axis.findData("step"))
    view = control.show_results()
    if view is not None:
        settle(app, 800)
        shoot(app, args.out / "24_results.png")
        view.close()

    w.load_preset("one_unit_accumulator")
    w.play()
    wait(app, lambda: w.session.state == "done", 300)
    shoot(app, args.out / "25_custom_cell.png")
    control.shutdown()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
