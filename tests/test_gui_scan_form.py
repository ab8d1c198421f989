"""The scan form: building from scratch, problems marked on their fields, the signature
line and the unrolled view following edits."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from explorer.core.spec import ScanSpec

pytest.importorskip("pytestqt")

from gui_helpers import bench  # noqa: E402,F401 - fixture


def field(w, key, i, name):
    widget = w.form.widget_for(f"{key}[{i}].{name}")
    assert widget is not None, f"no widget for {key}[{i}].{name}"
    return widget


def retype(qtbot, widget, text):
    """Select all and type, as a user would."""
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def checked(qtbot, w):
    """Wait for the debounced check that follows an edit."""
    with qtbot.waitSignal(w.checker.checked, timeout=3000) as got:
        pass
    return got.args[0]


def run(qtbot, w):
    with qtbot.waitSignal(w.run_finished, timeout=10_000) as done:
        assert w.run()
    return done.args[0]


def test_a_spec_built_from_scratch_runs_the_cumulative_sum(bench, qtbot):
    bench.set_spec(ScanSpec())
    assert bench.checker.last.problems  # an empty form cannot run: it says why
    assert not bench.run_action.isEnabled()

    qtbot.mouseClick(bench.findChild(QPushButton, "add_sequences"), Qt.MouseButton.LeftButton)
    retype(qtbot, field(bench, "sequences", 0, "name"), "x")
    retype(qtbot, field(bench, "sequences", 0, "data"), "[1, 2, 2, 2]")
    qtbot.mouseClick(bench.findChild(QPushButton, "add_outputs"), Qt.MouseButton.LeftButton)
    retype(qtbot, field(bench, "outputs", 0, "name"), "total")
    retype(qtbot, field(bench, "outputs", 0, "initial"), "0")
    retype(qtbot, field(bench, "outputs", 0, "expression"), "total + x")
    verdict = checked(qtbot, bench)
    assert verdict.problems == []
    assert bench.run_action.isEnabled()
    assert bench.signature_text() == "fn(x[t], total[t-1])"

    result = run(qtbot, bench)
    assert result.outputs["total"].tolist() == [1.0, 3.0, 5.0, 7.0]
    assert bench.results.tabs.count() == 1


def test_an_invalid_expression_marks_its_field_with_the_column_and_does_not_run(bench, qtbot):
    bench.load_preset("cumulative_rows")
    expression = field(bench, "outputs", 0, "expression")
    retype(qtbot, expression, "m_row + cumulative_sum * Q")
    verdict = checked(qtbot, bench)
    assert [p.field for p in verdict.problems] == ["outputs[0].expression"]
    assert "unknown name 'Q'" in expression.property("problem")
    assert expression.property("problemColumn") == 26  # the Q
    assert bench.marker.marked() == [expression]  # exactly that field
    assert bench.problems.isVisibleTo(bench) and bench.problems.count() == 1
    assert "column 26" in bench.problems.item(0).text()
    assert not bench.run_action.isEnabled()

    with qtbot.assertNotEmitted(bench.busy):
        assert bench.run() is False  # Ctrl+Enter / Run does nothing
    assert not bench.is_running()
    assert "cannot run" in bench.status.text()

    retype(qtbot, expression, "m_row + cumulative_sum")
    verdict = checked(qtbot, bench)
    assert verdict.problems == []
    assert expression.property("problem") is None
    assert bench.marker.marked() == []
    assert not bench.problems.isVisibleTo(bench)
    assert bench.run_action.isEnabled()


def test_clicking_a_problem_focuses_its_field(bench, qtbot):
    with qtbot.waitExposed(bench):
        bench.show()
    bench.load_preset("cumsum")
    expression = field(bench, "outputs", 0, "expression")
    expression.setText("total + nope")
    bench.checker.now()
    item = bench.problems.item(0)
    bench.problems.itemClicked.emit(item)
    assert expression.cursorPosition() == len("total + ")  # at the column of the problem


def test_a_shape_mismatch_is_marked_on_the_expression_with_both_shapes(bench, qtbot):
    bench.load_preset("cumsum")
    retype(qtbot, field(bench, "outputs", 0, "initial"), "zeros(2)")
    retype(qtbot, field(bench, "outputs", 0, "expression"), "sum(total) + x")
    verdict = checked(qtbot, bench)
    assert [p.field for p in verdict.problems] == ["outputs[0].expression"]
    message = field(bench, "outputs", 0, "expression").property("problem")
    assert "()" in message and "(2,)" in message
    assert bench.run() is False


def test_taps_that_are_not_numbers_are_marked_on_the_taps_field(bench, qtbot):
    bench.load_preset("fibonacci")
    taps = field(bench, "outputs", 0, "taps")
    retype(qtbot, taps, "-2, one")
    checked(qtbot, bench)
    assert "whole numbers" in taps.property("problem")
    with pytest.raises(Exception, match="whole numbers"):
        bench.spec()
    assert bench.run() is False


def test_the_signature_line_follows_edits(bench, qtbot):
    bench.load_preset("cumsum")
    assert bench.signature_text() == "fn(x[t], total[t-1])"
    retype(qtbot, field(bench, "sequences", 0, "name"), "u")
    assert bench.signature_text() == "fn(u[t], total[t-1])"  # at once, not after the check
    retype(qtbot, field(bench, "sequences", 0, "taps"), "-1, 0")
    assert bench.signature_text() == "fn(u[t], u[t+1], total[t-1])"
    field(bench, "sequences", 0, "reversed").setChecked(True)
    assert bench.signature_text() == "fn(u[T-1-t], u[T-2-t], total[t-1])"
    field(bench, "sequences", 0, "reversed").setChecked(False)
    bench.form.loop.go_backwards.setChecked(True)
    assert bench.signature_text() == "fn(u[T-2-t], u[T-1-t], total[t-1])"
    field(bench, "outputs", 0, "fed_back").setChecked(False)  # not fed back: no past values
    assert bench.signature_text() == "fn(u[T-2-t], u[T-1-t])"
    qtbot.mouseClick(bench.findChild(QPushButton, "add_non_sequences"), Qt.MouseButton.LeftButton)
    assert bench.signature_text() == "fn(u[T-2-t], u[T-1-t], W)"


def test_rows_move_and_remove(bench, qtbot):
    bench.load_preset("reversed_sequence_recurrence")
    assert bench.signature_text() == "fn(y[t], p[T-1-t], x[t-1], W, U, V)"
    rows = bench.form.lists["non_sequences"]
    rows.move_row(2, -1)
    assert [n.name for n in bench.spec().non_sequences] == ["W", "V", "U"]
    bench.form.lists["sequences"].move_row(0, 1)
    assert bench.signature_text() == "fn(p[T-1-t], y[t], x[t-1], W, V, U)"
    rows.remove_row(0)
    assert [n.name for n in bench.spec().non_sequences] == ["V", "U"]
    verdict = checked(qtbot, bench)  # W is still used by x's expression
    assert [p.field for p in verdict.problems] == ["outputs[0].expression"]
    assert "'W'" in verdict.problems[0].message


def test_the_unrolled_view_shows_fibonacci_reading_its_initial_rows_then_its_outputs(bench, qtbot):
    with qtbot.waitSignal(bench.checker.checked, timeout=5000):  # the values are checked on a worker
        bench.load_preset("fibonacci")
    view = bench.unrolled
    assert view.table.rowCount() == 4
    assert view.cell(0, "f_tm2") == "f's initial row 0"
    assert view.cell(0, "f_tm1") == "f's initial row 1"
    assert view.cell(1, "f_tm2") == "f's initial row 1"
    assert view.cell(1, "f_tm1") == "f[0] (from step 0)"
    assert view.cell(3, "f_tm2") == "f[1] (from step 1)"
    assert view.cell(3, "f_tm1") == "f[2] (from step 2)"
    view.n.setValue(6)
    assert view.table.rowCount() == 6
    assert view.cell(5, "f_tm1") == "f[4] (from step 4)"


def test_the_unrolled_view_shows_the_reversed_sequence_read_from_its_end(bench, qtbot):
    with qtbot.waitSignal(bench.checker.checked, timeout=5000):
        bench.load_preset("reversed_sequence_recurrence")
    view = bench.unrolled
    assert [view.cell(t, "y") for t in range(4)] == ["y[0]", "y[1]", "y[2]", "y[3]"]
    assert [view.cell(t, "p") for t in range(4)] == ["p[4]", "p[3]", "p[2]", "p[1]"]
    assert view.cell(0, "x_tm1") == "x's initial value"
    assert view.cell(2, "x_tm1") == "x[1] (from step 1)"
    assert view.cell(0, "W") == "W"
    bench.form.loop.go_backwards.setChecked(True)  # now y walks from its end and p from its start
    checked(qtbot, bench)
    assert [view.cell(t, "y") for t in range(2)] == ["y[4]", "y[3]"]
    assert [view.cell(t, "p") for t in range(2)] == ["p[0]", "p[1]"]


def test_the_unrolled_view_waits_for_a_valid_spec(bench, qtbot):
    bench.load_preset("fibonacci")
    retype(qtbot, field(bench, "outputs", 0, "initial"), "[1.0, 1.0, 1.0]")  # 3 rows for 2 taps
    verdict = checked(qtbot, bench)
    assert [p.field for p in verdict.problems] == ["outputs[0].initial"]
    assert bench.unrolled.table.rowCount() == 0
    assert "no problems" in bench.unrolled.note.text()


def test_a_function_from_the_reference_goes_into_the_field_being_edited(bench, qtbot):
    with qtbot.waitActive(bench):
        bench.show()
        bench.activateWindow()
    bench.load_preset("cumsum")
    expression = field(bench, "outputs", 0, "expression")
    qtbot.waitUntil(expression.isVisible)  # new rows show on the next event loop turn
    expression.setFocus()
    expression.setText("")
    bench.help_action.trigger()
    help_ = bench._functions
    help_.filter.setText("hyperbolic")
    shown = [r for r in range(help_.table.rowCount()) if not help_.table.isRowHidden(r)]
    assert [help_.table.item(r, 0).text() for r in shown] == ["tanh(x)"]
    help_.table.cellDoubleClicked.emit(shown[0], 0)
    assert expression.text() == "tanh("
    help_.close()
