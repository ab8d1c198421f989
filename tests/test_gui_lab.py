"""The RNN lab window: forms <-> config, live runs, the buttons, errors, closing."""

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import list_presets, load_preset
from explorer.gui.session import DONE, IDLE, PAUSED, RUNNING

from gui_helpers import settings, small_config, wait_state, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


# -- forms <-> config ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list_presets("train"))
def test_every_training_preset_loads_into_the_forms(window, name):
    window.load_preset(name)
    config, problems = window.forms.config()
    assert problems == []
    assert config == ExperimentConfig.from_dict(load_preset("train", name))


def test_forms_edit_the_config(window):
    form = window.forms.forms["train"]
    form.editors["lr"].setText("2.5e-3")
    form.editors["batch_size"].setText("7")
    window.forms.forms["model"].editors["cell"].setCurrentText("lstm")
    config, problems = window.forms.config()
    assert problems == [] and config.train.lr == 2.5e-3 and config.train.batch_size == 7
    assert config.model.cell == "lstm"


def test_invalid_values_are_marked_and_block_play(window, qtbot):
    train = window.forms.forms["train"]
    train.editors["lr"].setText("fast")
    train.editors["batch_size"].setText("0")
    window.forms.forms["task"].editors["max_len"].setText("2")  # below min_len 5
    window.play()
    assert window.session.state == IDLE and window.session.runner is None
    assert train.errors["lr"].text() == "'fast' is not a number (e.g. 1e-3)"
    assert not train.errors["lr"].isHidden()
    train.editors["lr"].setText("1e-3")  # next: a value out of range
    window.play()
    assert window.session.runner is None
    assert "at least 1" in train.errors["batch_size"].text()
    assert window.forms.tabText(2).endswith("⚠")
    train.editors["batch_size"].setText("4")  # next: fields that disagree with each other
    window.play()
    assert window.session.runner is None
    assert "above task.max_len" in window.forms.forms["task"].errors["min_len"].text()
    assert window.forms.tabText(0).endswith("⚠") and window.forms.tabText(2) == "Training"
    window.forms.forms["task"].editors["max_len"].setText("20")
    _, problems = window.forms.config()
    assert problems == [] and train.errors["lr"].isHidden() and window.forms.tabText(2) == "Training"


def test_task_fields_follow_the_task(window):
    task = window.forms.forms["task"]
    layout = task.layout()
    visible = lambda name: layout.isRowVisible(task.labels[name])  # noqa: E731
    assert visible("min_len") and not visible("stream_length")
    task.editors["name"].setCurrentText("echo")
    assert visible("stream_length") and not visible("min_len")


# -- a run --------------------------------------------------------------------------------------

def test_a_short_run_fills_every_plot(window, qtbot):
    window.forms.set_config(small_config())
    window.play()
    wait_state(qtbot, window.session, DONE)
    window.plots.refresh()
    data, plots = window.session.data, window.plots
    assert data.last.status == "finished" and data.last.step == 60
    assert len(data.scalars) == 60 // 5
    x, y = plots.loss.raw.getOriginalDataset()
    assert len(x) == 12 and np.all(np.isfinite(y))
    for curve in (plots.loss.ema, plots.loss.heldout, plots.grad.before, plots.grad.after, plots.grad.threshold,
                  plots.lr.lr, plots.probe.targets, plots.probe.predictions, plots.flow.curve):
        xs, ys = curve.getOriginalDataset()
        assert xs is not None and len(xs) > 0, curve.name()
    assert set(plots.params._curves) == set(data.params.columns[1:]) and len(data.params.columns) > 2
    assert plots.flow.image.image is not None and plots.flow.image.image.shape[0] == 3  # steps 20, 40, 60
    assert data.reference_lines and len(plots.loss._lines) == len(data.reference_lines)
    assert window.status.steps.text() == "step 60 / 60" and window.status.device.text() == "device: CPU"


def test_pause_step_resume_stop(window, qtbot):
    window.forms.set_config(small_config(steps=1_000_000, report_every=50))
    window.play()
    qtbot.waitUntil(lambda: window.session.data.last is not None, timeout=20_000)
    window.session.pause()
    assert window.session.state == PAUSED and window.act_play.text() == "Resume"
    step = _settled_step(qtbot, window)
    window.step()  # exactly one more optimisation step, with a full report
    qtbot.waitUntil(lambda: window.session.data.last.step == step + 1, timeout=10_000)
    window.step()
    qtbot.waitUntil(lambda: window.session.data.last.step == step + 2, timeout=10_000)
    window.play()  # resume
    assert window.session.state == RUNNING
    qtbot.waitUntil(lambda: window.session.data.last.step > step + 60, timeout=20_000)
    window.session.stop()
    wait_state(qtbot, window.session, DONE)
    assert window.session.final.status == "stopped"
    assert window.act_play.isEnabled() and not window.act_stop.isEnabled()


def _settled_step(qtbot, window) -> int:
    """The step the paused worker really stopped at (its last report has arrived)."""
    window.session.runner.call(lambda t: t.step, lambda s: setattr(window, "_settled", s))
    qtbot.waitUntil(lambda: getattr(window, "_settled", None) is not None, timeout=10_000)
    window.step()  # a step from a known place, with a full report
    qtbot.waitUntil(lambda: window.session.data.last.step == window._settled + 1, timeout=10_000)
    return window._settled + 1


def test_step_from_idle_starts_paused_after_one_step(window, qtbot):
    window.forms.set_config(small_config())
    window.step()
    qtbot.waitUntil(lambda: window.session.data.last is not None, timeout=20_000)
    assert window.session.state == PAUSED and window.session.data.last.step == 1
    window.session.reset()
    assert window.session.state == IDLE and len(window.session.data.scalars) == 0 and window.session.runner is None


def test_play_twice_and_reset_mid_run(window, qtbot):
    window.forms.set_config(small_config(steps=1_000_000))
    window.play()
    runner = window.session.runner
    window.play()  # a second Play while running does nothing
    assert window.session.runner is runner
    qtbot.waitUntil(lambda: window.session.data.last is not None, timeout=20_000)
    window.session.reset()
    assert window.session.state == IDLE and not runner.isRunning()
    assert len(window.session.data.scalars) == 0
    window.forms.set_config(small_config())
    window.play()
    wait_state(qtbot, window.session, DONE)
    assert window.session.data.last.step == 60


def test_learning_rate_and_clipping_change_while_training(window, qtbot):
    window.forms.set_config(small_config(steps=1_000_000, report_every=10, schedule="constant", lr=1e-3))
    window.play()
    qtbot.waitUntil(lambda: window.session.data.last is not None, timeout=20_000)
    train = window.forms.forms["train"]
    assert train.editors["lr"].isEnabled() and train.editors["clip_norm"].isEnabled()
    assert not train.editors["batch_size"].isEnabled()
    train.editors["lr"].setText("0.0042")
    train.editors["lr"].textEdited.emit("0.0042")
    train.editors["clip_norm"].setText("0.5")
    train.editors["clip_norm"].textEdited.emit("0.5")
    qtbot.waitUntil(lambda: window.session.data.last.lr == pytest.approx(0.0042), timeout=10_000)
    qtbot.waitUntil(lambda: window.session.data.last.clip_norm == pytest.approx(0.5), timeout=10_000)
    window.session.stop()
    wait_state(qtbot, window.session, DONE)


# -- trouble ----------------------------------------------------------------------------------

def test_divergence_stops_with_an_alert(window, qtbot):
    config = small_config(steps=500, lr=1e9, clip_norm=0.0, optimizer="sgd", report_every=1)
    window.forms.set_config(dataclasses.replace(config, model=dataclasses.replace(config.model, cell="relu",
                                                                                      init_scale=1.0)))
    window.play()
    wait_state(qtbot, window.session, DONE)
    assert window.session.final.status == "nonfinite"
    assert window.last_alert is not None and window.last_alert.windowTitle() == "Training diverged"
    assert "step" in window.last_alert.text() and "became" in window.last_alert.text()
    window.last_alert.close()


def test_worker_error_shows_and_the_window_stays_usable(window, qtbot):
    real = window.session._make_trainer

    def broken(config):
        def make(control):
            raise RuntimeError("the GPU caught fire")

        return make

    window.session._make_trainer = broken
    window.forms.set_config(small_config())
    window.play()
    wait_state(qtbot, window.session, DONE)
    assert window.last_alert.windowTitle() == "Training failed"
    assert "the GPU caught fire" in window.last_alert.text()
    assert "the GPU caught fire" in window.log.toPlainText()
    window.last_alert.close()
    window.session._make_trainer = real
    window.play()
    wait_state(qtbot, window.session, DONE)
    assert window.session.final.status == "finished"


def test_closing_mid_run_joins_the_worker_within_a_second(qtbot, settings, qtlog):
    import time

    from explorer.gui.main_window import MainWindow

    w = MainWindow(preset="default", settings=settings)
    qtbot.addWidget(w)
    w.forms.set_config(small_config(steps=1_000_000))
    w.play()
    qtbot.waitUntil(lambda: w.session.data.last is not None, timeout=20_000)
    runner = w.session.runner
    start = time.perf_counter()
    w.close()
    assert time.perf_counter() - start < 1.0
    assert not runner.isRunning()
    warnings = [m.message for m in qtlog.records if m.type.name in ("QtWarningMsg", "QtCriticalMsg")]
    assert not warnings, warnings


def test_bad_saved_settings_fall_back_to_defaults(qtbot, tmp_path):
    from explorer.gui.main_window import MainWindow

    ini = QSettings(str(tmp_path / "bad.ini"), QSettings.Format.IniFormat)
    ini.setValue("window/geometry", b"\x00garbage")
    ini.setValue("window/state", "not bytes")
    ini.setValue("window/lab_splitter", 42)
    ini.setValue("window/tab", "seven")
    ini.setValue("lab/preset", "no_such_preset")
    w = MainWindow(settings=ini)
    qtbot.addWidget(w)
    assert w.width() >= 800 and w.tabs.currentIndex() == 0
    config, problems = w.forms.config()
    assert problems == [] and config == ExperimentConfig.from_dict(load_preset("train", "default"))
    assert "no_such_preset" in w.log.toPlainText()


def test_settings_remember_the_window(qtbot, settings):
    from explorer.gui.main_window import MainWindow

    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(640, 470)  # within the offscreen screen: restoreGeometry clamps to it
    w.load_preset("seed002_echo_ns5")
    w.close()
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (640, 470)
    assert again.forms.config()[0].task.name == "echo"


def test_hover_reads_out_step_and_values(window, qtbot):
    from PySide6.QtCore import QPointF

    window.show()  # the plots need their real geometry
    qtbot.waitExposed(window)
    window.forms.set_config(small_config())
    window.play()
    wait_state(qtbot, window.session, DONE)
    plot = window.plots.loss
    plot.set_log_y(False)
    window.plots.refresh()  # refits the y range, as the next frame would
    vb = plot.getPlotItem().vb
    x, y = plot.ema.getOriginalDataset()
    plot.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(x[4] + 1, float(y[4]))))
    text = plot._readout.toPlainText()
    assert plot._readout.isVisible() and text.startswith(f"step {x[4]:.0f}")
    assert f"EMA (0.99) {y[4]:.5g}" in text
    assert "held-out" in text and "(step 30)" in text  # its nearest point is another step: said so
