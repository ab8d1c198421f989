"""Sweep definitions: value specs, points, TOML, and refusal before anything starts."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import list_presets, load_preset
from explorer.core.sweeps import SweepDefinition, load_definition

ROOT = Path(__file__).resolve().parents[1]


def sweep(**kw):
    return SweepDefinition.from_dict({"name": "t", "base": "default", **kw})


def test_value_specs_expand_in_order():
    d = sweep(fields={"model.hidden_size": {"halve": [256, 1]}, "train.lr": {"log": [1e-4, 1, 5]},
                      "train.clip_norm": [1.0, 0]})
    hidden, lr, clip = d.fields
    assert hidden.values == (256, 128, 64, 32, 16, 8, 4, 2, 1) and hidden.log_scale
    assert lr.values == (1e-4, 1e-3, 1e-2, 1e-1, 1.0) and lr.log_scale
    assert clip.values == (1.0, 0.0) and not clip.log_scale
    assert d.total == 9 * 5 * 2
    assert d.grid()[0] == {"model.hidden_size": 256, "train.lr": 1e-4, "train.clip_norm": 1.0}
    lin = sweep(fields={"model.hidden_size": {"linear": [4, 8, 3]}}).fields[0]
    assert lin.values == (4, 6, 8) and not lin.log_scale


def test_points_change_fields_together_and_configs_are_built_with_replace():
    d = sweep(points=[{"train.num_steps": 1, "model.hidden_size": 4}, {"train.num_steps": 10, "model.hidden_size": 16}],
              changes={"train.eval_every": 7}, steps=33)
    assert d.total == 2 and d.search_space() == {"point": [0, 1]}
    assert d.point_of({"point": 1}) == {"train.num_steps": 10, "model.hidden_size": 16}
    config = d.config_for(d.point_of({"point": 1}))
    assert isinstance(config, ExperimentConfig)
    assert (config.train.num_steps, config.model.hidden_size, config.train.eval_every, config.train.steps,
            config.train.threads) == (10, 16, 7, 33, 1)
    again = SweepDefinition.from_dict(json.loads(json.dumps(d.to_dict())))  # the study keeps it as JSON
    assert again.to_dict() == d.to_dict() and again.grid() == d.grid()


def test_out_of_limits_values_are_refused_each_naming_its_field_and_value():
    with pytest.raises(ConfigError) as info:
        sweep(fields={"model.hidden_size": [0, 8, 9000], "train.lr": [1e-3, -1.0]})
    text = str(info.value)
    assert set(info.value.fields) == {"model.hidden_size", "train.lr"}
    for shown in ("sweep value 0 refused", "at least 1", "sweep value 9000 refused", "at most 8192",
                  "sweep value -1.0 refused"):
        assert shown in text


def test_bad_definitions_name_what_is_wrong():
    cases = [
        ({"fields": {"model.hiden_size": [4]}}, "fields.model.hiden_size"),
        ({"fields": {"model.hidden_size": {"halve": [1, 256]}}}, "fields.model.hidden_size"),
        ({"fields": {"model.hidden_size": [4.5]}}, "fields.model.hidden_size"),
        ({"fields": {"a.b": [1], "model.cell": ["gru"], "train.lr": [1.0], "train.seed": [1]}}, "fields"),
        ({"fields": {"model.hidden_size": [4]}, "sampler": "bayes"}, "sampler"),
        ({"fields": {"model.hidden_size": [4]}, "sampler": "tpe"}, "n_trials"),
        ({"fields": {"model.hidden_size": [4]}, "objective": "accuracy"}, "objective"),
        ({"points": [{"train.num_steps": 0}]}, "train.num_steps"),
        ({"fields": {"model.cell": ["gru", "transformer"]}}, "model.cell"),
        ({}, "fields"),
    ]
    for extra, field in cases:
        with pytest.raises(ConfigError) as info:
            sweep(**extra)
        assert field in info.value.fields, (extra, info.value.fields)
    with pytest.raises(ConfigError) as info:
        SweepDefinition.from_dict({"name": "t", "base": "no_such_preset", "fields": {"model.hidden_size": [4]}})
    assert info.value.fields == ["base"]


def test_toml_file(tmp_path):
    path = tmp_path / "lr.toml"
    path.write_text('base = "default"\nsampler = "random"\nn_trials = 4\n'
                    '[fields]\n"train.lr" = {log = [1e-4, 1e-1, 4]}\n')
    d = load_definition(str(path))
    assert d.name == "lr" and d.sampler == "random" and d.total == 4 and d.fields[0].kind == "log"


def test_every_sweep_preset_loads_and_has_a_quick_twin_with_two_lines_to_look_for():
    names = list_presets("sweep")
    assert {"seed002_num_steps", "seed000_hidden_size", "seed000_learning_rate", "cells_on_memory_tasks"} <= set(names)
    for name in names:
        d = load_definition(name)
        assert d.name == name and d.title and len(d.look_for) == 2, name
        assert load_preset("sweep", name).get("look_for"), name
        if not name.endswith("_quick"):
            quick = load_definition(f"{name}_quick")
            assert quick.param_names == d.param_names and quick.total == d.total, name


def test_cli_refuses_bad_values_with_exit_2_before_starting(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"base": "default", "fields": {"model.hidden_size": [8, 0]}}))
    proc = subprocess.run([sys.executable, "main.py", "sweep", str(path), "--workspace", str(tmp_path / "ws")],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "model.hidden_size" in proc.stderr and "sweep value 0 refused" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "ws" / "sweeps.db").exists()  # nothing started
