"""Screenshots of a trained model opened in the scan workbench (the testing panel's "Open in
scan workbench"), the whole window on a real X server (xcb).

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" python tools/shot_open_in_workbench.py /tmp/shots

Writes, into the folder given:
  01_lab_trained.png       the default preset (GRU 32) trained 300 steps: the testing panel's button
  02_gru_workbench.png     the GRU opened in the workbench and run, the step slider at step 20
  03_gru_weights.png       the same, the form scrolled to its weights (read-only summaries)
  04_lstm2_workbench.png   a 2-layer LSTM: one output per layer
  05_custom_workbench.png  the minimal gated unit (a custom cell): its own expressions
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from shot_window import settle, shoot, wait




def train_and_open(app, w, preset: str, steps: int, **model) -> None:
    config = w.lab.presets.config(preset)
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, **model),
                                 train=dataclasses.replace(config.train, steps=steps))
    w.tabs.setCurrentWidget(w.lab)
    w.session.reset()
    w.forms.set_config(config)
    w.play()
    wait(app, lambda: w.session.state == "done", 120)
    wait(app, lambda: w.testing.model is not None and w.testing.weights_step == steps, 30)


def open_it(app, w, step: int) -> None:
    before = w.scan.results.run if w.scan is not None else None
    w.testing.open_button.click()
    wait(app, lambda: w.scan is not None and w.scan.results.run is not None and w.scan.results.run is not before)
    w.scan.results.set_step(step)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from explorer.gui.main_window import MainWindow

    settings = QSettings(str(args.out / "shot_settings.ini"), QSettings.Format.IniFormat)
    settings.clear()
    w = MainWindow(preset="default", settings=settings, workspace=str(args.out / "workspace"))  # not the user's
    w.setGeometry(app.primaryScreen().availableGeometry())
    w.show()
    settle(app, 500)

    train_and_open(app, w, "default", 300)
    shoot(app, args.out / "01_lab_trained.png")
    open_it(app, w, 20)
    shoot(app, args.out / "02_gru_workbench.png")
    field = w.scan.form.widget_for("non_sequences[1].value")
    w.scan._scroll.ensureWidgetVisible(field)
    shoot(app, args.out / "03_gru_weights.png")

    train_and_open(app, w, "default", 100, cell="lstm", layers=2)
    open_it(app, w, 20)
    shoot(app, args.out / "04_lstm2_workbench.png")

    train_and_open(app, w, "minimal_gated_unit", 100)
    open_it(app, w, 20)
    shoot(app, args.out / "05_custom_workbench.png")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
