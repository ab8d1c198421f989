"""The qualitative testing panel: predictions for each input family, a typed probe that
updates as you type, error against length; and the window's start-up stays torch-free."""

import subprocess
import sys

import numpy as np
import pytest

from explorer.gui.session import DONE

from gui_helpers import settings, small_config, wait_state, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


@pytest.fixture
def trained_window(window, qtbot):
    window.forms.set_config(small_config(steps=300))
    window.play()
    wait_state(qtbot, window.session, DONE)
    panel = window.testing
    qtbot.waitUntil(lambda: panel.model is not None and panel.idle(), timeout=30_000)
    return window


def test_the_panel_tests_the_finished_runs_weights(trained_window):
    panel = trained_window.testing
    assert panel.weights_step == 300 and "300" in panel.weights.text()
    assert [panel.family.itemData(i) for i in range(panel.family.count())] == ["train", "sine", "nonzero_mean",
                                                                               "longer"]


@pytest.mark.parametrize("family", ["train", "sine", "nonzero_mean", "longer"])
def test_predictions_for_each_family(trained_window, family, qtbot):
    panel = trained_window.testing
    panel.family.setCurrentIndex(panel.family.findData(family))
    panel.count.setValue(3)
    qtbot.waitUntil(panel.idle, timeout=30_000)  # scored on a worker; the latest request is shown
    shown = [p for p in panel.example_plots if p.isVisibleTo(panel)]
    assert len(shown) == 3
    for plot in shown:
        t, pred = plot.predictions.getOriginalDataset()
        _, target = plot.targets.getOriginalDataset()
        assert len(pred) == len(target) >= 49 if family == "longer" else len(pred) == len(target) > 0
        assert np.all(np.isfinite(pred))
        assert "error" in plot.getPlotItem().titleLabel.text
    assert panel.mean_error.text().startswith("mean error")


def test_typed_probe_updates_as_you_type(trained_window, qtbot):
    panel = trained_window.testing
    for text in ("1", "1, 2", "1, 2, 2", "1, 2, 2, 2"):  # keystrokes faster than the worker: the last one shows
        panel.typed.setText(text)
    qtbot.waitUntil(panel.idle, timeout=30_000)
    t, target = panel.typed_plot.targets.getOriginalDataset()
    assert target.tolist() == [1, 3, 5, 7]
    _, pred = panel.typed_plot.predictions.getOriginalDataset()
    assert len(pred) == 4 and np.all(np.isfinite(pred))
    panel.typed.setText("1, two")
    assert panel.typed_error.text() == "'two' is not a number"


def test_error_against_length(trained_window, qtbot):
    panel = trained_window.testing
    panel.measure_lengths()
    qtbot.waitUntil(lambda: panel.length_curve.getOriginalDataset()[0] is not None
                    and len(panel.length_curve.getOriginalDataset()[0]) == 3, timeout=30_000)
    lengths, errors = panel.length_curve.getOriginalDataset()
    assert lengths.tolist() == [49, 98, 196] and np.all(errors > 0)
    assert "196 steps" in panel.length_note.text()


def test_before_any_training_the_panel_says_so(window):
    assert window.testing.model is None
    assert "press Play" in window.testing.weights.text()
    assert not window.testing.draw_button.isEnabled()


def test_the_window_module_does_not_import_torch():
    code = "import sys, explorer.gui.main_window; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_long_sequence_tasks_are_shown_in_short_windows(window, qtbot):
    import dataclasses

    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.presets import load_preset

    config = ExperimentConfig.from_dict(load_preset("train", "seed002_echo_ns5"))
    window.forms.set_config(dataclasses.replace(config, train=dataclasses.replace(config.train, steps=50)))
    window.play()
    wait_state(qtbot, window.session, DONE)
    panel = window.testing
    qtbot.waitUntil(lambda: panel.model is not None and panel.idle(), timeout=30_000)
    t, pred = panel.example_plots[0].predictions.getOriginalDataset()
    assert len(t) == 80 and np.all((0 <= pred[np.isfinite(pred)]) & (pred[np.isfinite(pred)] <= 1))
    panel.typed.setText("1 0 0 1 1 0 1 0 0 0")
    qtbot.waitUntil(panel.idle, timeout=30_000)
    _, target = panel.typed_plot.targets.getOriginalDataset()
    assert target[3] == 1.0  # P(Y=1) = 0.5 + 0.5 x[0]


def test_testing_never_computes_on_the_gui_thread(trained_window, qtbot, monkeypatch):
    """Building the model, scoring the examples and the typed probe run on workers: a slow
    model (seconds on long sequences) never freezes the window."""
    import threading

    from explorer.core.lab import qualitative

    panel, main = trained_window.testing, threading.main_thread()
    threads = []
    score = qualitative.score
    monkeypatch.setattr(qualitative, "score", lambda *a, **k: (threads.append(threading.current_thread()),
                                                               score(*a, **k))[1])
    panel.refresh_weights()
    qtbot.waitUntil(lambda: len(threads) >= 1 and panel.idle(), timeout=30_000)
    panel.seed.setValue(panel.seed.value() + 1)
    qtbot.waitUntil(lambda: len(threads) >= 2 and panel.idle(), timeout=30_000)
    assert threads and all(t is not main for t in threads)
    assert panel.mean_error.text().startswith("mean error")


def test_answers_for_a_forgotten_model_are_dropped(trained_window, qtbot):
    panel = trained_window.testing
    panel.seed.setValue(panel.seed.value() + 1)  # a job in flight ...
    panel.forget()  # ... and Reset meanwhile
    qtbot.waitUntil(panel.idle, timeout=30_000)
    x, _ = panel.example_plots[0].predictions.getOriginalDataset()
    assert panel.model is None and (x is None or len(x) == 0)
