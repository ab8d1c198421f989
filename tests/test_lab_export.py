"""The exported standalone script trains exactly like the app: same per-step losses to 1e-5.

The script runs in a subprocess with explorer NOT importable (it must need only torch and numpy)."""

import dataclasses
import os
import re
import subprocess
import sys

import pytest

from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.export import export_script
from explorer.core.lab.training import Trainer

STEPS = 30


def app_losses(config, steps):
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=steps, report_every=1))
    return [r.loss for r in Trainer(config).reports() if r.full and r.loss is not None]


CASES = {
    "default_gru_adam": ExperimentConfig(
        model=ModelConfig(cell="gru", hidden_size=16),
        train=TrainConfig(optimizer="adam", lr=0.01, batch_size=8)),
    "vanilla_sgd_staircase_manual": ExperimentConfig(
        task=TaskConfig(min_len=5, max_len=20),
        model=ModelConfig(cell="vanilla", hidden_size=32, init_scale=0.1),
        train=TrainConfig(optimizer="sgd", lr=0.01, schedule="staircase", decay_steps=10, batch_size=1)),
    "lstm_2_layers_truncated_cosine": ExperimentConfig(
        task=TaskConfig(min_len=3, max_len=12),
        model=ModelConfig(cell="lstm", hidden_size=8, layers=2),
        train=TrainConfig(optimizer="rmsprop", lr=0.003, momentum=0.5, schedule="cosine", bptt="truncated",
                          num_steps=4, batch_size=4)),
    "echo_adagrad_truncated": ExperimentConfig(
        task=TaskConfig(name="echo", stream_length=20_000, heldout_size=4),
        model=ModelConfig(cell="vanilla", hidden_size=4),
        train=TrainConfig(optimizer="adagrad", lr=0.1, bptt="truncated", num_steps=5, batch_size=20,
                          clip_norm=0.0)),
    "copy_relu": ExperimentConfig(
        task=TaskConfig(name="copy", copy_length=3, copy_delay=4, heldout_size=8),
        model=ModelConfig(cell="relu", hidden_size=8),
        train=TrainConfig(optimizer="adam", lr=0.01, batch_size=4)),
    "adding_gru_default_init": ExperimentConfig(
        task=TaskConfig(name="adding", adding_length=10, heldout_size=8),
        model=ModelConfig(cell="gru", hidden_size=8, init_scale=0.0),
        train=TrainConfig(optimizer="sgd", lr=0.1, momentum=0.9, batch_size=4)),
}


def _custom(preset, **changes):
    from explorer.core.presets import load_preset

    data = load_preset("train", preset)
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values}
    data["train"] = {**data["train"], "eval_every": 0, "probe_every": 0, "flow_every": 0}
    return ExperimentConfig.from_dict(data)


TWO_STATES = {  # an LSTM-like cell (h, c) with H = 8: a step variable, orthogonal, normal and identity inits
    "states": ["h", "c"],
    "params": [{"name": "W", "shape": "4 * H, I", "init": "orthogonal", "scale": 1.0},
               {"name": "U", "shape": "4 * H, H", "init": "normal", "scale": 0.1},
               {"name": "D", "shape": "H, H", "init": "identity"},
               {"name": "b", "shape": "4 * H", "init": "zeros"}],
    "variables": [{"name": "a", "expression": "x @ W.T + h_tm1 @ U.T + b"}],
    "expressions": ["sigmoid(a[:, 24:]) * tanh(c_tm1 @ D)",
                    "sigmoid(a[:, 8:16]) * c_tm1 + sigmoid(a[:, :8]) * tanh(a[:, 16:24])"],
}

CASES.update({  # custom cells: their step written out as torch code
    "custom_vanilla_by_hand": _custom("vanilla_by_hand"),
    "custom_one_unit_accumulator": _custom("one_unit_accumulator"),
    "custom_minimal_gated_unit": _custom("minimal_gated_unit", train={"batch_size": 4}),
    "custom_indrnn_2_layers_truncated": _custom("indrnn", model={"layers": 2, "hidden_size": 8},
                                                train={"bptt": "truncated", "num_steps": 5, "batch_size": 4}),
    "custom_two_states_default_init": _custom("vanilla_by_hand", model={"custom": TWO_STATES, "hidden_size": 8,
                                                                          "init_scale": 0.0},
                                                train={"optimizer": "adam", "lr": 0.01, "batch_size": 4}),
})


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    """Every case's script, started at once (each pays torch's import), isolated from explorer."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    procs = {}
    for name, config in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        path = folder / "train.py"
        path.write_text(export_script(config), encoding="utf-8")
        procs[name] = subprocess.Popen([sys.executable, "-I", str(path), "--steps", str(STEPS)], cwd=folder,
                                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield procs
    for proc in procs.values():
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize("name", CASES)
def test_script_prints_the_apps_losses(scripts, name):
    ours = app_losses(CASES[name], STEPS)
    out, err = scripts[name].communicate(timeout=180)
    assert scripts[name].returncode == 0, err
    theirs = [float(v) for v in re.findall(r"^step \d+ loss (\S+)", out, re.M)]
    assert len(ours) == len(theirs) == STEPS
    assert theirs == pytest.approx(ours, rel=1e-5, abs=1e-5)
    assert "held-out loss" in out


def test_script_imports_only_torch_and_numpy():
    text = export_script(ExperimentConfig())
    imports = set(re.findall(r"^(?:from|import) (\w+)", text, re.M))
    assert imports <= {"argparse", "math", "numpy", "torch"}
    compile(text, "train.py", "exec")  # valid Python


def test_a_custom_cell_the_script_cannot_spell_is_refused_naming_its_expression():
    from explorer.core.errors import ConfigError

    cell = dict(TWO_STATES, expressions=["cumsum(a[:, 24:], 0)", TWO_STATES["expressions"][1]])
    with pytest.raises(ConfigError) as caught:
        export_script(_custom("vanilla_by_hand", model={"custom": cell, "hidden_size": 8}))
    problem = caught.value.problems[0]
    assert problem.field == "model.custom.expressions[0]" and "cumsum" in problem.message and problem.column == 1


def test_export_cli_writes_a_runnable_script(tmp_path):
    from explorer.app import main

    path = tmp_path / "default.py"
    assert main(["export", "default", "--script", str(path)]) == 0
    assert 'CONFIG = {' in path.read_text() and "def main():" in path.read_text()
    assert main(["export", "default", "--script", str(tmp_path)]) == 2  # a folder: refused with a message


def test_export_a_recorded_run_by_name(tmp_path):
    from explorer.app import main
    from explorer.core.runs import RunStore, train_run

    config = CASES["default_gru_adam"]
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=3))
    train_run(config, RunStore(tmp_path / "ws"), name="mine")
    path = tmp_path / "mine.py"
    assert main(["export", "mine", "--workspace", str(tmp_path / "ws"), "--script", str(path)]) == 0
    assert "'hidden_size': 16" in path.read_text()
    assert main(["export", "nosuch", "--workspace", str(tmp_path / "ws"), "--script", str(path)]) == 2
