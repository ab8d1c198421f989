"""Screenshots of the lab's "Inside" tab while models train, on a real X server (xcb).

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" python tools/shot_inside.py /tmp/inside_shots

  inside_gru.png          the default preset (a GRU) training, the Inside tab open
  inside_gru_big.png      the same tab enlarged
  inside_lstm.png         an LSTM on the copy task
  inside_indrnn.png       the IndRNN preset (a custom cell with a diagonal recurrence)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from shot_window import settle, shoot, wait


def train_and_shoot(app, w, preset: str, path: Path, steps: int = 300, changes=None, big: Path | None = None):
    w.session.reset()
    w.load_preset(preset)
    for section, values in (changes or {}).items():
        for name, value in values.items():
            editor = w.forms.forms[section].editors[name]
            editor.setCurrentText(value) if hasattr(editor, "setCurrentText") else editor.setText(value)
    w.plots.diagnostics.setCurrentIndex(3)
    w.play()
    wait(app, lambda: w.session.data.last is not None and w.session.data.last.step > steps, 120)
    settle(app, 600)
    shoot(app, path)
    if big is not None:
        w.plots.enlarge("inside")
        shoot(app, big)
        w.escape()
    w.act_stop.trigger()
    wait(app, lambda: w.session.state == "done")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    train_and_shoot(app, w, "default", args.out / "inside_gru.png", steps=600, big=args.out / "inside_gru_big.png")
    train_and_shoot(app, w, "default", args.out / "inside_lstm.png", changes={"model": {"cell": "lstm"}})
    train_and_shoot(app, w, "indrnn", args.out / "inside_indrnn.png")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
