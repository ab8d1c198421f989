"""The Runs panel on a real run store: listing against a baseline, overlays with legends and
smoothing, x by time, rename / delete, open, and the window recording its own runs."""

import dataclasses
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.reports import StepReport
from explorer.core.presets import load_preset
from explorer.core.runs import RunStore
from explorer.core.runs.smoothing import smooth
from explorer.gui.runs.table import DIFF, NAME, STATUS, TICK
from explorer.gui.session import DONE

from gui_helpers import settings, small_config, wait_state  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def base_config() -> ExperimentConfig:
    return ExperimentConfig.from_dict(load_preset("train", "default"))


def with_(config, section, **changes):
    return dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **changes)})


def record(store: RunStore, config, *, steps=200, seed=0, name=None) -> str:
    """A finished run written through the store's own writer (reports made up, not trained)."""
    rng = np.random.default_rng(seed)
    with store.create(config, name=name, source="cli") as writer:
        for i in range(1, steps + 1):
            loss = float(np.exp(-i / 80) + 0.2 * rng.random())
            writer.write(StepReport(step=i, total_steps=steps, full=True, loss=loss, loss_ema=loss, lr=1e-3 * (1 + seed),
                                    grad_norm=float(1 + rng.random()), grad_norm_clipped=1.0, elapsed_s=i * 0.01 * (seed + 1),
                                    heldout_loss=loss if i % 50 == 0 else None, steps_per_s=100.0))
        writer.finish("finished", "finished")
    time.sleep(0.01)  # distinct creation times: newest first is well defined
    return writer.id


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "workspace")


@pytest.fixture
def window(qtbot, settings, store):  # noqa: F811 - the fixture above
    from explorer.gui.main_window import MainWindow

    w = MainWindow(preset="default", settings=settings, workspace=store.workspace)
    qtbot.addWidget(w)
    yield w
    w.session.shutdown(timeout_ms=5000)
    w.runs.sweeps.shutdown()
    w.runs.shutdown()


def relist(qtbot, panel):
    with qtbot.waitSignal(panel.listed, timeout=10_000):
        panel.refresh()


def three_runs(store):
    base = base_config()
    a = record(store, base, seed=0, name="base")
    b = record(store, with_(base, "model", hidden_size=7), seed=1)
    c = record(store, with_(base, "train", lr=0.003), seed=2)
    return a, b, c


def tick(panel, run_id):
    panel.table.item(panel.table.row_of(run_id), TICK).setCheckState(Qt.CheckState.Checked)


def test_lists_runs_newest_first_with_what_differs_from_the_baseline(window, store, qtbot):
    a, b, c = three_runs(store)
    panel = window.runs
    relist(qtbot, panel)
    table = panel.table
    assert [r.id for r in table.records] == [c, b, a]
    assert table.item(2, NAME).text() == "base" and table.item(0, STATUS).text() == "finished"
    panel.baseline.setCurrentIndex(panel.baseline.findData(a))
    panel._show()
    assert table.item(table.row_of(b), DIFF).text() == "hidden 7"
    assert table.item(table.row_of(c), DIFF).text() == "lr 0.003"
    assert table.item(table.row_of(a), DIFF).text() == "(baseline)"
    assert table.item(0, 4).text() != ""  # final held-out loss shown


def test_ticking_overlays_runs_in_one_colour_each_with_a_legend(window, store, qtbot):
    a, b, c = three_runs(store)
    panel = window.runs
    relist(qtbot, panel)
    tick(panel, a)
    tick(panel, b)
    qtbot.waitUntil(lambda: b in panel.metrics and a in panel.metrics, timeout=10_000)
    loss = panel.overlay.plots["loss"]
    qtbot.waitUntil(lambda: len(loss.drawn) == 2 and len(loss.drawn[b]["smooth"][0]) == 200, timeout=10_000)
    assert loss.legend.text().splitlines() == ["hidden 32", "hidden 7"]  # each run's value where they differ
    colours = {panel.table.item(panel.table.row_of(i), TICK).background().color().name() for i in (a, b)}
    assert colours == {c for c, _ in loss.legend.entries} and len(colours) == 2
    for name in ("grad_norm", "lr"):
        assert set(panel.overlay.plots[name].drawn) == {a, b}
    assert window.plots.loss.overlay is loss and len(loss.layer.curves) == 2
    qtbot.waitUntil(lambda: "predict 0" in panel.reference_lines, timeout=10_000)  # one task: its lines
    assert window.plots.loss.reference_key()[0].startswith("predict 0")
    window.plots.loss.grab()  # paints the layer
    assert loss.layer.renders >= 1
    panel.table.item(panel.table.row_of(a), TICK).setCheckState(Qt.CheckState.Unchecked)
    assert set(loss.drawn) == {b} and loss.legend.text() == b  # alone, nothing differs: its name (here its id)
    assert panel.diffs.columnCount() == 1


def test_smoothing_changes_the_drawn_curve_and_keeps_the_raw_one(window, store, qtbot):
    a, *_ = three_runs(store)
    panel = window.runs
    relist(qtbot, panel)
    tick(panel, a)
    loss = panel.overlay.plots["loss"]
    qtbot.waitUntil(lambda: a in loss.drawn and len(loss.drawn[a]["raw"][0]) == 200, timeout=10_000)
    raw = loss.drawn[a]["raw"][1].copy()
    panel.smoothing.setValue(90)
    x, y = loss.drawn[a]["smooth"]
    np.testing.assert_allclose(y, smooth(raw, 0.9))
    assert not np.allclose(y, raw)
    np.testing.assert_array_equal(loss.drawn[a]["raw"][1], raw)  # the raw curve stays
    assert len(loss.raw_layer.curves) == 1 and len(loss.layer.curves) == 1  # faint raw + smoothed
    panel.smoothing.setValue(0)
    np.testing.assert_allclose(loss.drawn[a]["smooth"][1], raw)
    assert loss.raw_layer.curves == []  # nothing to show behind an unsmoothed curve


def test_x_axis_by_time(window, store, qtbot):
    a, b, _ = three_runs(store)
    panel = window.runs
    relist(qtbot, panel)
    tick(panel, b)
    loss = panel.overlay.plots["loss"]
    qtbot.waitUntil(lambda: b in loss.drawn and len(loss.drawn[b]["smooth"][0]) == 200, timeout=10_000)
    panel.x_axis.setCurrentIndex(panel.x_axis.findData("time"))
    x, _ = loss.drawn[b]["smooth"]
    np.testing.assert_allclose(x, store.metrics(b)["elapsed_s"])
    assert x[-1] == pytest.approx(200 * 0.02)
    assert window.plots.loss.getPlotItem().getAxis("bottom").labelText == "time in training (s)"
    panel.x_axis.setCurrentIndex(panel.x_axis.findData("step"))
    assert loss.drawn[b]["smooth"][0][-1] == 200


def test_rename_in_place_and_delete_after_asking(window, store, qtbot):
    a, b, c = three_runs(store)
    panel = window.runs
    relist(qtbot, panel)
    panel.table.item(panel.table.row_of(b), NAME).setText("half the units")
    qtbot.waitUntil(lambda: store.get(b).name == "half the units", timeout=10_000)
    relist(qtbot, panel)
    assert panel.table.item(panel.table.row_of(b), NAME).text() == "half the units"

    panel.ask_delete(c)
    assert panel.question is not None and "cannot be undone" in panel.question.text()
    panel.question.button(QMessageBox.StandardButton.No).click()
    relist(qtbot, panel)
    assert c in [r.id for r in store.list()]
    panel.ask_delete(c)
    panel.question.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: c not in [r.id for r in store.list()], timeout=10_000)
    relist(qtbot, panel)
    assert [r.id for r in panel.table.records] == [b, a]


def test_open_puts_the_config_in_the_forms_and_the_weights_in_the_testing_panel(window, store, qtbot):
    from explorer.core.runs import train_run

    config = with_(small_config(steps=20, eval_every=10), "model", hidden_size=12)
    rec = train_run(config, store, name="to open")
    panel = window.runs
    relist(qtbot, panel)
    with qtbot.waitSignal(panel.opened, timeout=30_000):
        panel.open_run(rec.id)
    got, problems = window.forms.config()
    assert problems == [] and got.model.hidden_size == 12 and got.train == config.train
    qtbot.waitUntil(lambda: window.testing.model is not None and window.testing.idle(), timeout=30_000)
    assert window.testing.weights_step == 20  # the model is built on a worker


def test_play_in_the_window_records_a_run_with_its_metrics(window, store, qtbot):
    window.forms.set_config(small_config(steps=40, eval_every=20))
    window.play()
    wait_state(qtbot, window.session, DONE)
    runs = store.list()
    assert len(runs) == 1
    run = runs[0]
    assert run.source == "window" and run.status == "finished" and run.steps == 40
    assert run.final_heldout is not None and run.device.startswith("cpu")
    metrics = store.metrics(run.id)
    assert list(metrics["step"]) == list(range(5, 45, 5))
    assert store.checkpoint_path(run.id) is not None
    relist(qtbot, window.runs)
    assert [r.id for r in window.runs.table.records] == [run.id]


def test_resuming_a_runs_checkpoint_in_the_window_continues_its_record(window, store, qtbot):
    from explorer.core.runs import train_run

    rec = train_run(small_config(steps=20, eval_every=10), store, name="to resume")
    window.resume_checkpoint(str(store.checkpoint_path(rec.id)), steps=30)  # to 30 steps in all
    wait_state(qtbot, window.session, DONE)
    runs = store.list()
    assert [r.id for r in runs] == [rec.id]  # the same record, continued
    assert runs[0].steps == 30 and runs[0].status == "finished" and runs[0].name == "to resume"
    steps = store.metrics(rec.id)["step"]
    assert list(steps) == sorted(set(steps)) and steps[-1] == 30


def test_the_workspace_is_a_setting_and_can_change(window, store, settings, qtbot, tmp_path):  # noqa: F811
    from explorer.gui.runs import WORKSPACE_KEY, set_workspace

    record(store, base_config())
    relist(qtbot, window.runs)
    assert len(window.runs.records) == 1
    assert set_workspace(window, window.runs, tmp_path / "other")
    relist(qtbot, window.runs)
    assert window.runs.records == [] and settings.value(WORKSPACE_KEY) == str(tmp_path / "other")
    assert window.session.recorder_factory().store.workspace == tmp_path / "other"
