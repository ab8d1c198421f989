"""Sweeps from the window: the dialog refuses values outside a field's limits (naming the
field), presets load from the gallery, a tiny sweep with 2 worker processes finishes and its
runs appear (ticked) in the Runs panel, and the results view shows what it found."""

import pytest

from explorer.core.runs import RunStore
from explorer.core.sweeps import SweepDefinition
from explorer.core.sweeps.study import TrialResult
from explorer.gui.runs.sweep_dialog import SweepDialog

from gui_helpers import settings, small_config  # noqa: F401 - fixtures
from test_gui_runs import store, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot):
    d = SweepDialog(small_config())
    qtbot.addWidget(d)
    return d


def choose(row, path, kind, text):
    row.field.setCurrentIndex(row.field.findData(path))
    row.kind.setCurrentIndex(row.kind.findData(kind))
    row.values.setText(text)


def test_values_outside_a_fields_limits_are_refused_naming_the_field(dialog):
    choose(dialog.rows[0], "model.hidden_size", "values", "0, 16")
    assert not dialog.launch_button.isEnabled() and dialog.definition is None
    assert "model.hidden_size" in dialog.errors.text() and "0" in dialog.errors.text()
    assert "1 to 8192" in dialog.rows[0].limits.text()  # the limits, read from the config metadata
    choose(dialog.rows[0], "model.hidden_size", "halve", "256, 1")
    assert dialog.launch_button.isEnabled(), dialog.errors.text()
    assert dialog.definition.grid()[-1] == {"model.hidden_size": 1} and dialog.definition.total == 9
    choose(dialog.rows[1], "train.lr", "log", "1e-4, 20, 3")  # 20 is fine (max 1e9); momentum is not
    choose(dialog.rows[2], "train.momentum", "linear", "0, 2, 3")
    assert not dialog.launch_button.isEnabled()
    lines = dialog.errors.text().splitlines()
    assert lines and all(line.startswith("train.momentum: sweep value") for line in lines)  # not train.lr


def test_explicit_points_and_a_gallery_preset(dialog):
    dialog.use_points.setChecked(True)
    dialog.points.setPlainText("train.num_steps=1, model.hidden_size=4\ntrain.num_steps=5, model.hidden_size=16")
    assert dialog.launch_button.isEnabled(), dialog.errors.text()
    assert dialog.definition.grid() == [{"train.num_steps": 1, "model.hidden_size": 4},
                                        {"train.num_steps": 5, "model.hidden_size": 16}]
    assert any("seed002" in dialog.gallery.item(i).data(256) for i in range(dialog.gallery.count()))
    item = next(dialog.gallery.item(i) for i in range(dialog.gallery.count())
                if dialog.gallery.item(i).data(256) == "seed000_learning_rate_quick")
    assert len(item.text().splitlines()) >= 3  # the title and its two lines
    assert dialog.load("seed000_learning_rate_quick")
    assert dialog.definition.sampler == "grid" and len(dialog.definition.fields) == 2
    assert dialog.definition.base == SweepDefinition.from_dict(
        {"name": "x", "base": dialog.definition.to_dict()["base"], "fields": {"train.lr": [1.0]}}).base


def test_a_tiny_sweep_from_the_window_finishes_and_its_runs_appear(window, store, qtbot):
    from sweep_helpers import tiny_sweep

    definition = tiny_sweep("window-tiny", steps=20, fields={"model.hidden_size": [4, 8]})
    control = window.runs.sweeps
    with qtbot.waitSignal(control.finished, timeout=180_000):
        control.launch(definition, 2)
    assert len(control.launcher.processes) == 2 and all(rc == 0 for rc in control.launcher.returncodes)
    assert control.status.done == control.status.total == 2
    runs = [r for r in RunStore(store.workspace).list() if r.sweep == "window-tiny"]
    assert sorted(r.params["model.hidden_size"] for r in runs) == [4, 8]
    assert all(r.status == "finished" and r.source == "sweep" for r in runs)
    panel = window.runs
    qtbot.waitUntil(lambda: {r.id for r in runs} <= {r.id for r in panel.records}, timeout=10_000)
    assert {r.id for r in runs} <= set(panel.ticked)  # their curves are on the plots
    qtbot.waitUntil(lambda: all(len(panel.overlay.plots["loss"].drawn.get(r.id, {}).get("smooth", ((),))[0]) == 4
                                for r in runs), timeout=10_000)
    view = control.show_results()
    assert view.kind == "line" and len(view.points) == 2
    with qtbot.waitSignal(view.open_run, timeout=1000) as opened:
        view.open_run.emit(view.points[0][2])
    assert opened.args[0] in {r.id for r in runs}
    view.close()


def test_results_view_heatmap_for_two_fields_and_parallel_coordinates_for_three(qtbot):
    from explorer.gui.runs.results import SweepResults

    two = SweepDefinition.from_dict({"name": "two", "base": "default",
                                     "fields": {"train.lr": {"log": [1e-3, 1e-1, 3]}, "train.clip_norm": [0.0, 1.0]}})
    trials = [TrialResult(number=i, index=i, point=p, state="complete", objective=float(i), run_id=f"run{i}",
                          message="", attempts=1) for i, p in enumerate(two.grid())]
    view = SweepResults(two)
    qtbot.addWidget(view)
    view.show_trials(trials)
    assert view.kind == "heatmap" and view.heatmap.shape == (3, 2)
    assert view.heatmap[2, 1] == 5.0 and view.cells[(0, 0)] == "run0"
    with qtbot.waitSignal(view.open_run) as opened:
        from PySide6.QtCore import QPointF

        view._cell_clicked(QPointF(1.5, 0.5))
    assert opened.args == ["run2"]
    three = SweepDefinition.from_dict({"name": "three", "base": "default",
                                       "fields": {"train.lr": [1e-3, 1e-2], "model.hidden_size": {"halve": [16, 4]},
                                                  "model.cell": ["gru", "lstm"]}})
    view3 = SweepResults(three)
    qtbot.addWidget(view3)
    view3.show_trials([TrialResult(number=i, index=i, point=p, state="complete", objective=1.0 / (i + 1),
                                   run_id=f"r{i}", message="", attempts=1) for i, p in enumerate(three.grid())])
    assert view3.kind == "parallel" and len(view3.points) == 12
    assert SweepResults._unit(8, [4, 8, 16], True, True) == pytest.approx(0.5)  # log-spaced: the middle
