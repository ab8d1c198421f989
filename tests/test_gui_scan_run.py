"""Running from the workbench: results and the step slider, failures that come from a
later step, cancel, closing mid-run, and spec files."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from explorer.core.presets import load_preset
from explorer.core.spec import NonSequenceSpec, OutputSpec, ScanSpec, SequenceSpec

pytest.importorskip("pytestqt")

from gui_helpers import bench  # noqa: E402,F401 - fixture

LONG = ScanSpec(title="a million steps", outputs=(OutputSpec("k", "k + 1", "0.0"),), n_steps=1_000_000)


def run(qtbot, w):
    with qtbot.waitSignal(w.run_finished, timeout=10_000) as done:
        assert w.run()
    return done.args[0]


def test_the_step_slider_shows_what_step_t_read_and_returned(bench, qtbot):
    bench.load_preset("fibonacci")
    run(qtbot, bench)
    results = bench.results
    assert results.slider.maximum() == 9
    with qtbot.waitSignal(results.step_changed) as picked:
        results.slider.setValue(5)
    assert picked.args == [5] and results.spin.value() == 5
    detail = results.detail.toPlainText()
    assert "f_tm2 ← f[3] (from step 3) = 8" in detail
    assert "f_tm1 ← f[4] (from step 4) = 13" in detail
    assert "f     = 21" in detail
    panel = results.panels[0]
    assert panel.model.data(panel.model.index(5, 0), Qt.ItemDataRole.BackgroundRole) is not None
    assert panel.model.data(panel.model.index(4, 0), Qt.ItemDataRole.BackgroundRole) is None
    assert panel.marker.value() == 5
    assert len(panel.curves) == 1 and list(panel.curves[0].getData()[1]) == [2, 3, 5, 8, 13, 21, 34, 55, 89, 144]


def test_a_run_replaces_the_curves_data_without_new_items(bench, qtbot):
    bench.load_preset("two_tap_recurrence")
    run(qtbot, bench)
    curves = list(bench.results.panels[0].curves)
    assert len(curves) == 2
    bench.form.loop.n_steps.setValue(4)
    run(qtbot, bench)
    assert bench.results.panels[0].curves == curves  # same items, new data
    assert len(curves[0].getData()[0]) == 4


def test_ctrl_enter_runs(bench, qtbot):
    with qtbot.waitActive(bench):
        bench.show()
        bench.activateWindow()
    bench.load_preset("cumsum")
    target = bench.form.widget_for("outputs[0].expression")
    target.setFocus()
    with qtbot.waitSignal(bench.run_finished, timeout=10_000):
        qtbot.keyClick(target, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_an_error_at_a_later_step_is_marked_and_the_workbench_stays_usable(bench, qtbot):
    spec = ScanSpec(sequences=(SequenceSpec("i", "arange(5)"),),
                    non_sequences=(NonSequenceSpec("X", "ones(3)"),),
                    outputs=(OutputSpec("y", "X[i]"),))
    bench.set_spec(spec)
    assert bench.checker.last.problems == []  # step 0 is fine: the dry run cannot see it
    with qtbot.waitSignal(bench.run_failed, timeout=10_000) as failed:
        assert bench.run()
    assert "at step 3" in failed.args[0]
    expression = bench.form.widget_for("outputs[0].expression")
    assert "out of bounds" in expression.property("problem")
    assert "at step 3" in bench.status.text()
    assert not bench.is_running()
    # fix it and run again
    bench.form.widget_for("non_sequences[0].value").setText("ones(5)")
    assert run(qtbot, bench).outputs["y"].tolist() == [1.0] * 5
    assert expression.property("problem") is None


def test_cancel_stops_a_long_run(bench, qtbot):
    with qtbot.waitExposed(bench):
        bench.show()
    bench.set_spec(LONG)
    with qtbot.waitSignal(bench.busy, timeout=5000) as started:
        assert bench.run()
    assert started.args == [True]
    assert bench.cancel_action.isEnabled() and not bench.run_action.isEnabled()
    qtbot.waitUntil(lambda: bench.progress.value() > 0, timeout=5000)  # progress is shown
    assert bench.progress.isVisibleTo(bench) and bench.progress.maximum() == 1_000_000
    with qtbot.waitSignal(bench.run_cancelled, timeout=5000) as cancelled:
        bench.cancel()
    assert "cancelled after" in cancelled.args[0]
    assert not bench.is_running()
    qtbot.waitUntil(lambda: not bench.progress.isVisibleTo(bench), timeout=2000)
    assert bench.run_action.isEnabled() and not bench.cancel_action.isEnabled()
    bench.form.loop.n_steps.setValue(3)  # still usable
    assert run(qtbot, bench).outputs["k"].tolist() == [1.0, 2.0, 3.0]


def test_closing_mid_run_joins_the_thread(bench, qtbot):
    bench.set_spec(LONG)
    assert bench.run()
    qtbot.waitUntil(lambda: bench.progress.value() > 0, timeout=5000)
    bench.close()  # closeEvent cancels and joins; the conftest fixture fails on a live thread
    assert not bench.is_running()


def test_a_second_run_is_refused_while_one_runs(bench, qtbot):
    bench.set_spec(LONG)
    assert bench.run()
    assert bench.run() is False
    assert "already" in bench.status.text()
    with qtbot.waitSignal(bench.run_cancelled, timeout=5000):
        bench.cancel()


def test_save_then_open_round_trips(bench, qtbot, tmp_path):
    bench.load_preset("fibonacci")
    fib = bench.spec()
    path = tmp_path / "fib.json"
    assert bench.save(path)
    assert ScanSpec.from_json(path.read_text()) == fib
    bench.load_preset("cumsum")
    assert bench.open(path)
    assert bench.spec() == fib
    assert bench.signature_text() == "fn(f[t-2], f[t-1])"


@pytest.mark.parametrize("text, says", [
    ("{not json", "not valid JSON"),
    ('{"outputs": [{"name": "y"}], "colour": 1}', "colour"),
    ("[1, 2]", "JSON object"),
])
def test_a_bad_file_says_why_and_changes_nothing(bench, tmp_path, text, says):
    bench.load_preset("cumsum")
    before = bench.spec()
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert bench.open(path) is False
    assert says in bench.status.text()
    assert bench.spec() == before


def test_a_file_with_a_bad_expression_opens_and_marks_it(bench, tmp_path):
    data = load_preset("scan", "cumsum")
    data["outputs"][0]["expression"] = "total + "
    path = tmp_path / "half.json"
    path.write_text(json.dumps(data))
    assert bench.open(path)
    assert bench.form.widget_for("outputs[0].expression").property("problem")
    assert bench.run() is False
