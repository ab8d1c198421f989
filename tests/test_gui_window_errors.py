"""Every error reaches the window as a dialog naming the file and the problem; a failure
never clears the plots; warnings where they belong."""

from __future__ import annotations


import numpy as np
from PySide6.QtWidgets import QFileDialog

from explorer.gui import file_actions
from explorer.gui.run_data import RunData
from explorer.gui.session import DONE
from gui_helpers import finished, settings, small_config, wait_state, window  # noqa: F401 - fixtures

NOT_UTF8 = b'{"title": "caf\xe9"}'


def test_a_non_utf8_experiment_file_gets_a_dialog_naming_it(window, tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(NOT_UTF8)
    assert window.open_experiment(str(path)) is False
    text = window.last_alert.text()
    assert "latin1.json" in text and "UTF-8" in text


def test_a_non_utf8_scan_spec_says_so_and_changes_nothing(qtbot, tmp_path):
    from explorer.gui.scan import ScanWorkbench

    bench = ScanWorkbench()
    qtbot.addWidget(bench)
    before = bench.spec()
    path = tmp_path / "latin1.json"
    path.write_bytes(NOT_UTF8)
    assert bench.open(path) is False
    assert "latin1.json" in bench.status.text() and "UTF-8" in bench.status.text()
    assert bench.spec() == before
    assert bench.close_workbench()


def test_an_unknown_scan_preset_on_the_command_line_gets_a_dialog(qtbot, settings):
    from explorer.gui.main_window import MainWindow

    w = MainWindow(scan_preset="nosuch", settings=settings)
    qtbot.addWidget(w)
    w._build_scan()
    assert w.last_alert.windowTitle() == "Unknown scan preset"
    assert "nosuch" in w.last_alert.text() and "fibonacci" in w.last_alert.text()
    assert w.scan.close_workbench()


def test_a_failed_resume_keeps_the_plots_and_logs_no_traceback(finished, qtbot, tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"not a checkpoint")
    steps_before = finished.session.data.scalars["step"].copy()
    finished.resume_checkpoint(str(path))
    qtbot.waitUntil(lambda: finished.last_alert is not None and finished.last_alert.windowTitle() == "Cannot resume",
                    timeout=20_000)
    assert finished.session.state == DONE
    assert np.array_equal(finished.session.data.scalars["step"], steps_before)
    x, _ = finished.plots.loss.raw.getOriginalDataset()
    assert x is not None and len(x) == len(steps_before)
    assert "broken.safetensors" in finished.last_alert.text()
    assert "Traceback" not in finished.log.toPlainText()


def test_a_resume_runs_to_the_checkpoints_own_step_count(finished, qtbot, tmp_path):
    said = []
    path = tmp_path / "run.safetensors"
    file_actions.save_checkpoint(finished.session, path, said.append)
    qtbot.waitUntil(lambda: len(said) > 0, timeout=10_000)
    finished.load_preset("seed000_cumsum")  # a 45,000-step preset in the forms: not the checkpoint's
    finished.resume_checkpoint(str(path))
    wait_state(qtbot, finished.session, DONE)
    assert finished.session.config.train.steps == 60
    assert "45,000" not in finished.log.toPlainText().split("starting: from a checkpoint")[-1]


def test_png_export_writes_where_the_user_chose(finished, tmp_path, qtbot):
    dialog = QFileDialog(finished, "Export", str(tmp_path))
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setDirectory(str(tmp_path))
    folder = file_actions.chosen_folder(type("Typed", (), {  # what the dialog answers for a typed name
        "selectedFiles": lambda self: ["plots"], "directory": lambda self: dialog.directory()})())
    assert folder == str(tmp_path / "plots")
    finished.export_plots(folder)
    finished.export_plots(folder, "svg")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(
        f"{n}.{k}" for n in finished.plots.plots for k in ("png", "svg"))
    assert (tmp_path / "plots" / "loss.svg").read_text().lstrip().startswith("<?xml")


def test_a_finite_divergence_is_flagged():
    data = RunData()
    for step, loss in enumerate([2.0, 2.1, 5.0, 1e5, 4e19]):
        data.scalars.append(step=step, loss=loss, loss_ema=loss)
    assert "diverged" in data.divergence()
    calm = RunData()
    for step, loss in enumerate([2.0, 1.5, 1.0]):
        calm.scalars.append(step=step, loss=loss, loss_ema=loss)
    assert calm.divergence() is None


def test_the_window_shows_a_diverged_run_as_a_warning(window):
    text = "the loss diverged: it ended at 4.4e+19"
    window.status.set_state("done", text)
    window.plots.set_warning(text)
    assert "diverged" in window.status.state.text() and "b00000" in window.status.state.styleSheet()
    assert window.plots._summary().startswith("⚠ the loss diverged")


def test_preset_titles_show_their_cli_names_and_a_disabled_box_says_why(window):
    combo = window.lab.presets.combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert any(t.endswith("(seed002_echo_ns5)") and "num_steps=5" in t for t in texts)
    window._on_state("running")
    assert not window.lab.presets.isEnabled() and "Stop or Reset" in combo.toolTip()
    assert "fixed while training" in window.forms.forms["model"].editors["hidden_size"].toolTip()
    window._on_state("idle")


def test_the_testing_panel_follows_the_model(finished, qtbot):
    panel = finished.testing
    qtbot.waitUntil(lambda: panel.model is not None and panel.idle(), timeout=20_000)
    assert "step 60" in panel.weights.text()
    panel.typed.setText("1, two, 3")
    assert "two" in panel.typed_error.text()
    x, _ = panel.typed_plot.predictions.getOriginalDataset()
    assert x is None or len(x) == 0, "a bad probe left the old plot"
    finished.session.reset()
    assert panel.model is None and "press Play" in panel.weights.text()
    x, _ = panel.example_plots[0].predictions.getOriginalDataset()
    assert x is None or len(x) == 0
