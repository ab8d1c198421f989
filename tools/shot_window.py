"""Screenshots of the whole window on a real X server (xcb): what a newcomer sees.

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" python tools/shot_window.py /work/wt/shots

Each PNG is the X server's pixels (``QScreen.grabWindow(0)``), dialogs included:
  01_default_training.png   the default preset training (a few seconds in)
  02_default_done.png       the same run finished, with the testing panel's examples
  03_echo.png               the echo preset (seed002_echo_ns5) training
  04_enlarged.png           the loss enlarged to fill the centre
  05_hover.png              the hover readout over the loss curves
  06_flow_tab.png           the gradient-flow tab (heatmap, its colour bar, latest row)
  07_workbench_new.png      the scan workbench with a hand-built scan, run
  08_error_utf8.png         the dialog for a non-UTF-8 experiment file
  09_error_scan_preset.png  the dialog for --scan-preset nosuch
  10_diverged.png           Adam at lr 1e9: a finite divergence, flagged
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, QPointF, QSettings, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def settle(app, ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def wait(app, test, seconds: float = 60) -> None:
    end = time.time() + seconds
    while not test() and time.time() < end:
        settle(app, 100)


def shoot(app, path: Path) -> None:
    settle(app, 400)
    image = app.primaryScreen().grabWindow(0)
    image.save(str(path))
    print("wrote", path, flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from explorer.gui.main_window import MainWindow

    settings = QSettings(str(args.out / "shot_settings.ini"), QSettings.Format.IniFormat)
    settings.clear()
    w = MainWindow(preset="default", settings=settings)
    w.setGeometry(app.primaryScreen().availableGeometry())
    w.show()
    w.load_scan_workbench()
    settle(app, 500)

    w.play()
    wait(app, lambda: w.session.data.last is not None and w.session.data.last.step > 400)
    shoot(app, args.out / "01_default_training.png")
    w.act_stop.trigger()
    wait(app, lambda: w.session.state == "done")
    wait(app, lambda: w.testing.model is not None, 20)
    shoot(app, args.out / "02_default_done.png")

    # hover over the loss, at two thirds of the run
    loss = w.plots.loss
    vb = loss.getPlotItem().vb
    x = float(w.session.data.scalars["step"][-1]) * 0.66
    y = sum(vb.viewRange()[1]) / 2
    scene = vb.mapViewToScene(QPointF(x, y))
    point = loss.mapFromScene(scene)
    QTest.mouseMove(loss.viewport(), QPoint(int(point.x()), int(point.y())))
    loss.scene().sigMouseMoved.emit(scene)
    shoot(app, args.out / "05_hover.png")

    w.plots.enlarge("loss")
    shoot(app, args.out / "04_enlarged.png")
    w.escape()

    w.plots.diagnostics.setCurrentIndex(1)
    shoot(app, args.out / "06_flow_tab.png")
    w.plots.diagnostics.setCurrentIndex(0)

    w.session.reset()
    w.load_preset("seed002_echo_ns5")
    w.play()
    wait(app, lambda: w.session.data.last is not None and w.session.data.last.step > 300)
    shoot(app, args.out / "03_echo.png")
    w.session.reset()

    # a scan built by hand: New, then edit the output's expression and add a non-sequence
    w.tabs.setCurrentWidget(w.scan)
    w.scan.new_scan()
    form = w.scan.form
    form.about.title.setText("my running product")
    form.lists["sequences"].field_widget(0, "data").setText("[1, 2, 3, 4, 5, 6]")
    form.lists["outputs"].field_widget(0, "expression").setText("y * x * w")
    form.lists["outputs"].field_widget(0, "initial").setText("1.0")
    row = form.add_row("non_sequences")
    row.fields["name"].setText("w")
    row.fields["value"].setText("0.5")
    w.scan.checker.now()
    settle(app)
    w.scan.run()
    wait(app, lambda: not w.scan.is_running(), 20)
    shoot(app, args.out / "07_workbench_new.png")
    w.tabs.setCurrentWidget(w.lab)

    bad = args.out / "latin1_experiment.json"
    bad.write_bytes(b'{"title": "caf\xe9"}')
    w.open_experiment(str(bad))
    shoot(app, args.out / "08_error_utf8.png")
    w.last_alert.close()

    other = MainWindow(scan_preset="nosuch", settings=settings)  # as `--scan-preset nosuch` opens
    other.setGeometry(app.primaryScreen().availableGeometry())
    other.show()
    other._build_scan()
    shoot(app, args.out / "09_error_scan_preset.png")
    other.last_alert.close()
    other.close()

    w.load_preset("default")
    train = w.forms.forms["train"].editors
    train["lr"].setText("1e9")
    train["steps"].setText("300")
    w.play()
    wait(app, lambda: w.session.state == "done", 120)
    shoot(app, args.out / "10_diverged.png")
    if w.last_alert is not None:
        w.last_alert.close()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
