"""Screenshots of the Scan workbench alone: load presets, run them, save PNGs.

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/shot_workbench.py /tmp/shots

Writes, into the folder given:
  fibonacci_run.png          the fibonacci preset after a run (step 5 selected)
  reversed_unrolled.png      reversed_sequence_recurrence: signature and unrolled view
  invalid_expression.png     an unknown name in an output's expression, marked
  shape_mismatch.png         a shape mismatch found by the dry run, both shapes named
  from_scratch.png           an empty form with one sequence and one output added
  running.png                a million-step run in progress (then cancelled)
  functions.png              the expression language reference
  <preset>.png               with --all: every preset after a run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from explorer.core.spec import OutputSpec, ScanSpec
from explorer.gui.scan import ScanWorkbench

SIZE = (1400, 900)


def settle(app: QApplication, ms: int = 150) -> None:
    """Let layouts, timers and repaints happen (a screenshot script, not a test)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def run_and_wait(app: QApplication, w: ScanWorkbench) -> None:
    loop = QEventLoop()
    w.busy.connect(lambda on: None if on else loop.quit())
    if w.run():
        QTimer.singleShot(30_000, loop.quit)
        loop.exec()
    settle(app)


def shoot(w: ScanWorkbench, app: QApplication, path: Path) -> None:
    settle(app)
    w.grab().save(str(path))
    print("wrote", path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--all", action="store_true", help="also one screenshot per preset")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    w = ScanWorkbench()
    w.resize(*SIZE)
    w.show()
    settle(app, 300)

    w.load_preset("fibonacci")
    run_and_wait(app, w)
    w.results.set_step(5)
    shoot(w, app, args.out / "fibonacci_run.png")

    w.load_preset("reversed_sequence_recurrence")
    run_and_wait(app, w)
    shoot(w, app, args.out / "reversed_unrolled.png")

    w.load_preset("cumulative_rows")
    w.form.lists["outputs"].field_widget(0, "expression").setText("m_row + cumulative_sum * Q")
    w.checker.now()
    shoot(w, app, args.out / "invalid_expression.png")

    w.load_preset("cumulative_rows")
    w.form.lists["outputs"].field_widget(0, "expression").setText("sum(m_row + cumulative_sum)")
    w.checker.now()
    shoot(w, app, args.out / "shape_mismatch.png")

    w.set_spec(ScanSpec(title="my scan"))
    w.form.add_row("sequences").write(w.form.lists["sequences"].rows[0].KIND("x", "[1.0, 2.0, 2.0, 2.0]"))
    w.form.add_row("outputs")
    w.form.lists["outputs"].field_widget(0, "expression").setText("y + x")
    run_and_wait(app, w)
    shoot(w, app, args.out / "from_scratch.png")

    w.set_spec(ScanSpec(title="a million steps", outputs=(OutputSpec("k", "k + 1", "0.0"),), n_steps=1_000_000))
    w.run()
    settle(app, 1500)
    shoot(w, app, args.out / "running.png")
    loop = QEventLoop()
    w.busy.connect(lambda on: None if on else loop.quit())
    w.cancel()
    loop.exec()

    w.load_preset("cumsum")
    w.form.widget_for("outputs[0].expression").setFocus()
    w.help_action.trigger()
    w._functions.filter.setText("random")
    settle(app)
    w._functions.grab().save(str(args.out / "functions.png"))
    w._functions.close()

    if args.all:
        for name in w.gallery.names():
            w.load_preset(name)
            run_and_wait(app, w)
            shoot(w, app, args.out / f"{name}.png")
    w.close_workbench()
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
