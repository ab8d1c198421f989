"""The scan workbench, as a newcomer meets it: New, an edited preset is the user's own, the
unrolled table uses its room, the reference opens beside the field, NaN outputs warn."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

from explorer.core.spec import OutputSpec, ScanSpec
from explorer.core.spec.model import SequenceSpec
from explorer.core.spec.nonfinite import nonfinite_outputs
from gui_helpers import bench  # noqa: F401 - fixture


def run(bench, qtbot):
    with qtbot.waitSignal(bench.run_finished, timeout=20_000):
        assert bench.run()


def test_new_scan_gives_an_empty_program_that_runs(bench, qtbot):
    bench.load_preset("fibonacci")
    bench.new_action.trigger()
    spec = bench.spec()
    assert spec.title == "" and spec.expected is None and len(spec.outputs) == 1
    run(bench, qtbot)
    assert "differs" not in bench.status.text() and not bench.form.about.edited_note.isVisibleTo(bench)


def test_an_edited_preset_drops_its_source_numbers(bench, qtbot, tmp_path):
    bench.load_preset("fibonacci")
    assert bench.spec().expected is not None
    bench.form.about.title.setText("my fibonacci")  # a new name alone keeps the comparison
    assert bench.spec().expected is not None
    bench.form.lists["outputs"].field_widget(0, "expression").setText("f_tm1 + f_tm2 + 1")
    assert bench.spec().expected is None
    assert bench.form.about.edited_note.isVisibleTo(bench)
    assert "edited from" in bench.form.about.edited_note.text() and "Fibonacci" in bench.form.about.edited_note.text()
    run(bench, qtbot)
    assert "differs from the source" not in bench.status.text()
    path = tmp_path / "mine.json"
    assert bench.save(path)
    assert "expected" not in json.loads(path.read_text())


def test_the_unrolled_table_uses_its_room(bench, qtbot):
    bench.resize(1400, 1000)
    bench.show()
    qtbot.waitExposed(bench)
    bench.load_preset("fibonacci")
    table = bench.unrolled.table
    # the spec is checked on a worker: the table fills when its verdict arrives
    qtbot.waitUntil(lambda: bench.unrolled.steps() > 4 and table.rowCount() > 4, timeout=10_000)

    def filled():
        rows_height = sum(table.rowHeight(r) for r in range(table.rowCount()))
        return rows_height > table.viewport().height() * 0.6

    qtbot.waitUntil(filled, timeout=10_000)  # else: the table leaves most of its box empty


def test_the_functions_reference_opens_beside_the_field(bench, qtbot):
    bench.resize(1400, 900)
    bench.show()
    qtbot.waitExposed(bench)
    field = bench.form.lists["outputs"].field_widget(0, "expression")
    field.setFocus()
    qtbot.waitUntil(lambda: bench._last_expression is field)
    bench.help_action.trigger()
    dialog = bench._functions
    field_rect = QRect(field.mapToGlobal(QPoint(0, 0)), field.size())
    assert dialog.isVisible() and not dialog.frameGeometry().intersects(field_rect)
    dialog.close()


def test_nan_and_inf_outputs_are_named_with_their_first_step(bench, qtbot):
    import torch

    found = nonfinite_outputs({"ok": torch.ones(4), "y": torch.tensor([1.0, 2.0, float("nan"), float("inf")])})
    assert [str(f) for f in found] == ["output 'y' is NaN from step 2 (2 steps not finite)"]
    bench.set_spec(ScanSpec(sequences=(SequenceSpec("x", "[1, 2, 3]"),),
                            outputs=(OutputSpec("y", "log(x - 2)", None),)))
    run(bench, qtbot)
    assert "output 'y' is NaN from step 0" in bench.status.text()
    assert "is NaN from step 0" in bench.results.summary.text()


def test_the_attribute_call_hint_never_suggests_system():
    from explorer.core.expr import ExpressionError, compile_expression

    try:
        compile_expression("__import__('os').system('ls')", names={"x"})
    except ExpressionError as exc:
        assert "system(" not in str(exc) and "tanh(" in str(exc)
    else:
        raise AssertionError("the call compiled")


def test_an_outputs_key_sits_beside_its_curves(bench, qtbot):
    bench.resize(1400, 900)
    bench.show()
    qtbot.waitExposed(bench)
    bench.set_spec(ScanSpec(sequences=(SequenceSpec("x", "[1, 2, 3]"),),
                            outputs=(OutputSpec("y", "x * ones(2)", None),)))
    run(bench, qtbot)
    panel = bench.results.panels[0]
    QApplication.processEvents()
    key, vb = panel.legend, panel.plot.getPlotItem().vb
    assert "y[0]" in key.text or "y" in key.text
    assert key.sceneBoundingRect().width() > 0
    assert key.sceneBoundingRect().intersected(vb.sceneBoundingRect()).width() < 1
