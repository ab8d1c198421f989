"""The File menu's work: experiments, checkpoints, plot PNGs and metrics CSV."""

import csv
import json

import pytest

from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.training import Trainer
from explorer.gui import file_actions
from explorer.gui.session import DONE, IDLE

from gui_helpers import finished, settings, small_config, wait_state, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def test_experiment_save_and_open_round_trip(window, tmp_path):
    window.load_preset("seed002_echo_ns10")
    config, _ = window.forms.config()
    path = file_actions.save_experiment(config, tmp_path / "mine")
    assert path.name == "mine.json" and json.loads(path.read_text())["task"]["name"] == "echo"
    window.load_preset("default")
    assert window.open_experiment(str(path))
    assert window.forms.config()[0] == config == ExperimentConfig.from_dict(json.loads(path.read_text()))


@pytest.mark.parametrize("content", ["{broken", "[1, 2]", '{"train": {"lr": "fast"}}', '{"task": {"nme": "echo"}}'])
def test_a_bad_experiment_file_is_refused_and_changes_nothing(window, tmp_path, content):
    before, _ = window.forms.config()
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert not window.open_experiment(str(path))
    assert window.last_alert.windowTitle() == "Cannot open experiment"
    assert window.forms.config()[0] == before
    window.last_alert.close()


def test_checkpoint_of_a_finished_run_resumes(finished, qtbot, tmp_path):
    said = []
    path = tmp_path / "run.safetensors"
    assert file_actions.save_checkpoint(finished.session, path, said.append)
    qtbot.waitUntil(lambda: len(said) > 0, timeout=10_000)
    assert said[0] == f"checkpoint at step 60 saved to {path}"
    resumed = Trainer.resume(path, steps=70)
    assert resumed.step == 60 and resumed.config.train.steps == 70


def test_checkpoint_before_any_run_says_so(window):
    said = []
    assert not file_actions.save_checkpoint(window.session, "x.safetensors", said.append)
    assert said == ["nothing to save yet: press Play or Step first"]


def test_plots_export_as_png(finished, tmp_path):
    paths = finished.plots.export_png(tmp_path / "plots")
    assert {p.name for p in paths} == {"loss.png", "probe.png", "grad_norm.png", "grad_flow.png", "param_norms.png",
                                       "learning_rate.png", "inside.png"}
    assert all(p.stat().st_size > 1000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_metrics_export_as_csv(finished, tmp_path):
    path = file_actions.export_metrics(finished.session.data, tmp_path / "metrics")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 12 and rows[-1]["step"] == "60"
    assert float(rows[0]["loss"]) > 0 and rows[-1]["heldout_loss"] != "" and rows[0]["heldout_loss"] == ""
    assert any(k.startswith("grad_norm[") for k in rows[0])


def test_metrics_export_with_nothing_to_export(window, tmp_path):
    from explorer.core.errors import ExplorerError

    with pytest.raises(ExplorerError, match="no metrics yet"):
        file_actions.export_metrics(window.session.data, tmp_path / "m.csv")


def test_resume_from_a_checkpoint_continues_the_run(finished, qtbot, tmp_path):
    said = []
    path = tmp_path / "run.safetensors"
    file_actions.save_checkpoint(finished.session, path, said.append)
    qtbot.waitUntil(lambda: len(said) > 0, timeout=10_000)
    finished.session.reset()
    finished.load_preset("seed002_echo_ns5")  # a different experiment in the forms: not used
    finished.resume_checkpoint(str(path), steps=90)  # the user asked for 90 steps in all
    wait_state(qtbot, finished.session, DONE)
    steps = finished.session.data.scalars["step"]
    assert steps[0] == 65 and steps[-1] == 90 and finished.session.final.status == "finished"
    config, _ = finished.forms.config()
    assert config.task.name == "cumsum" and config.train.steps == 90  # the checkpoint's experiment
    assert "from step 60 to 90 steps" in finished.log.toPlainText()


def test_resume_from_a_broken_checkpoint_says_why(window, qtbot, tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"not a checkpoint at all")
    window.resume_checkpoint(str(path))
    qtbot.waitUntil(lambda: window.last_alert is not None, timeout=20_000)
    assert window.session.state == IDLE  # nothing was running, nothing is now
    assert window.last_alert.windowTitle() == "Cannot resume"
    assert "broken.safetensors" in window.last_alert.text()
    window.last_alert.close()
