"""The RNN lab's model opened in the scan workbench: the testing panel's button is off until
there is a trained model; then it builds the model's ScanSpec on a worker, the window shows
it in the workbench and runs it, and the step slider's h_t is the lab's probe to 1e-6."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from explorer.core.spec import ScanSpec
from explorer.gui.scan.stepdata import step_outputs
from explorer.gui.session import DONE

from gui_helpers import bench, settings, small_config, wait_state, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def test_open_in_workbench_steps_through_the_trained_model(window, qtbot, tmp_path):
    panel = window.testing
    button = panel.open_button
    assert not button.isEnabled() and "No trained model" in button.toolTip()

    window.forms.set_config(small_config(steps=20))
    window.play()
    wait_state(qtbot, window.session, DONE)
    qtbot.waitUntil(lambda: panel.model is not None, timeout=30_000)
    assert button.isEnabled()
    probes = []
    assert window.session.with_trainer(lambda t: t.probe(), probes.append)  # the lab's probe of these weights
    qtbot.waitUntil(lambda: bool(probes), timeout=10_000)
    probe = probes[0]

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.scan is not None and window.scan.results.run is not None
                    and window.scan.results.run.spec.title.startswith("GRU 16"), timeout=60_000)
    bench = window.scan
    assert window.tabs.currentWidget() is bench
    assert bench.results.run.spec.title == "GRU 16, trained 20 steps: its step as a scan"

    # the step slider: at its last step, h is the lab's h_T
    slider = bench.results.slider
    assert slider.maximum() == len(probe.inputs) - 1
    slider.setValue(slider.maximum())
    t = bench.results.step()
    assert t == len(probe.inputs) - 1
    h = dict(step_outputs(bench.results.run, t))["h"]
    diff = float(np.abs(h - probe.layer_states[0][t]).max())
    assert diff <= 1e-6, f"h_T differs from the lab's probe by {diff:.3g}"
    assert f"step {t}" in bench.results.detail.toPlainText()
    every = bench.results.run.outputs["h"].numpy()
    assert np.abs(every - probe.layer_states[0]).max() <= 1e-6  # every step, not only the last

    # the weights show as a read-only summary, and stay through edits of other rows
    field = bench.form.widget_for("non_sequences[1].value")
    assert field.isReadOnly() and field.text() == "trained weights (rnn.weight_hh_l0), 48×16, float32"
    assert bench.form.widget_for("non_sequences[1].array") is field
    arrays = [n.array for n in bench.results.run.spec.non_sequences]
    bench.form.about.title.setText("my GRU")
    bench.form.add_row("non_sequences")  # a plain row after the weights
    bench.form.lists["non_sequences"].move_row(0, 1)  # W_ih below W_hh
    spec = bench.spec()
    assert spec.title == "my GRU" and spec.non_sequences[-1].array is None and spec.non_sequences[-1].value
    assert [n.array for n in spec.non_sequences[:len(arrays)]] == [arrays[1], arrays[0], *arrays[2:]]
    assert spec.sequences[0].array is bench.results.run.spec.sequences[0].array
    path = tmp_path / "gru.json"
    assert bench.save(path)
    again = ScanSpec.from_json(path.read_text())
    assert again.non_sequences == spec.non_sequences and again.sequences == spec.sequences



def test_load_and_run_waits_for_a_running_scan_and_files_reopen_with_their_arrays(bench, qtbot, tmp_path):
    import dataclasses

    import torch

    from explorer.core.lab.models import build_model
    from explorer.core.lab.tasks import make_task
    from explorer.core.lab.to_scan import model_to_scan
    from explorer.core.spec import OutputSpec

    config = small_config()
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, cell="lstm"))
    task = make_task(config.task)
    model = build_model(config.model, task.input_size, task.output_size, task.loss, seed=3)  # seeded, untrained
    x = task.probe()[0]
    spec = model_to_scan(config, model.state_dict(), x, step=0)
    with torch.no_grad():
        want = model(torch.from_numpy(x), backend="scan").layer_states[0][:, 0].numpy()  # (T, H)

    bench.set_spec(ScanSpec(outputs=(OutputSpec("k", "k + 1", "0.0"),), n_steps=1_000_000, title="long"))
    assert bench.run()
    qtbot.waitUntil(bench.is_running, timeout=10_000)
    with qtbot.waitSignal(bench.run_finished, timeout=60_000) as finished:
        bench.load_and_run(spec)  # the long run is cancelled; this one runs once it has stopped
    run = finished.args[0]
    assert run.spec.title == spec.title and "untrained" in spec.title
    assert np.abs(run.outputs["h"].numpy() - want).max() <= 1e-6

    path = tmp_path / "lstm.json"
    assert bench.save(path)
    bench.new_scan()
    assert bench.open(path)
    field = bench.form.widget_for("sequences[0].data")
    assert field.isReadOnly() and field.text() == f"probe inputs, {len(x)}×1, float32"
    assert bench.spec().non_sequences == spec.non_sequences
