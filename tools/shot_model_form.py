"""Screenshots of the Model form's custom cell editor on a real X server (xcb).

    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" python tools/shot_model_form.py /tmp/cellform_shots

  11_cell_vanilla_by_hand.png   the vanilla_by_hand preset in the Model tab, its dry run passed
  12_cell_wrong_shape.png       W_hh given shape H, I: the problem under h's expression, at its column
  13_cell_gated_variables.png   minimal_gated_unit (a step variable), the shape of W_f broken
  14_cell_wide.png              the same with the form's column widened (the splitter dragged)
  15_cell_two_states.png        h and c, with a new parameter row
  16_cell_training.png          read-only while it trains
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from shot_window import settle, shoot, wait


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--preset", default="vanilla_by_hand", help="the training preset of the first shots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["SCAN_EXPLORER_WORKSPACE"] = str(args.out / "workspace")  # its run is recorded there, not in yours
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from explorer.gui.main_window import MainWindow

    settings = QSettings(str(args.out / "shot_settings.ini"), QSettings.Format.IniFormat)
    settings.clear()
    w = MainWindow(preset=args.preset, settings=settings)
    w.setGeometry(app.primaryScreen().availableGeometry())
    w.show()
    forms, editor = w.forms, w.forms.cell_editor
    forms.setCurrentIndex(1)  # the Model tab

    def checked(show=None):
        """Wait for the live check, then scroll the Model tab to ``show`` (a widget of the cell)."""
        wait(app, editor.checker.is_current, 60)
        settle(app, 300)
        if show is not None:
            forms.widget(1).ensureWidgetVisible(show, 10, 60)
            settle(app, 200)

    checked()
    shoot(app, args.out / f"11_cell_{args.preset}.png")

    editor.params.field_widget(1, "shape").setText("H, I")
    checked(editor.expression_messages["h"])
    shoot(app, args.out / "12_cell_wrong_shape.png")

    w.load_preset("minimal_gated_unit")
    editor.params.field_widget(0, "shape").setText("H, I")
    checked(editor.variables.rows[0].message)
    shoot(app, args.out / "13_cell_gated_variables.png")
    sizes = w.lab.sizes()
    w.lab.setSizes([620, max(sizes[1] - 290, 300), sizes[2]])
    checked(editor.variables.rows[0].message)
    shoot(app, args.out / "14_cell_wide.png")
    w.lab.setSizes(sizes)

    w.load_preset("vanilla_by_hand")
    editor.states.setCurrentIndex(editor.states.findText("h and c"))
    editor.expressions["c"].setText("0.9 * c_tm1 + x @ W_ih.T")
    editor.add_row("params")
    checked(editor.expressions["c"])
    shoot(app, args.out / "15_cell_two_states.png")

    w.load_preset("one_unit_accumulator")
    w.play()
    wait(app, lambda: w.session.data.last is not None and w.session.data.last.step > 50)
    forms.widget(1).ensureWidgetVisible(editor.params.rows[0].fields["init"], 10, 60)
    shoot(app, args.out / "16_cell_training.png")
    w.session.stop()
    wait(app, lambda: w.session.state == "done")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
