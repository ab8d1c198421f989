"""Experiment configs: defaults, JSON round trips, errors that name the field, presets."""

import dataclasses
import json

import pytest

from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig, field_meta
from explorer.core.presets import list_presets, load_preset

SECTIONS = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}


def test_defaults_are_valid_and_round_trip_through_json():
    config = ExperimentConfig(title="t", description="d")
    assert config.validate() == []
    text = json.dumps(config.to_dict())
    assert ExperimentConfig.from_dict(json.loads(text)) == config


def test_missing_keys_take_defaults_and_edits_use_replace():
    config = ExperimentConfig.from_dict({"train": {"lr": 0.5}})
    assert config.train.lr == 0.5 and config.train.batch_size == TrainConfig().batch_size
    assert config.model == ModelConfig()
    edited = dataclasses.replace(config, model=dataclasses.replace(config.model, cell="lstm"))
    assert edited.model.cell == "lstm" and config.model.cell == ModelConfig().cell
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.train.lr = 1.0


def test_unknown_keys_are_named():
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({"trian": {}, "model": {"hiden_size": 3}})
    assert set(err.value.fields) == {"trian", "model.hiden_size"}
    assert "hidden_size" in str(err.value)  # the message lists the real fields


def test_every_problem_is_reported_at_once_with_its_field_and_fix():
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({"train": {"lr": -1, "batch_size": "many", "optimizer": "adamw"},
                                    "model": {"cell": "transformer", "layers": True}})
    fields = set(err.value.fields)
    assert {"train.batch_size", "model.layers"} <= fields  # wrong types first
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({"train": {"lr": -1, "optimizer": "adamw"}, "model": {"cell": "transformer"}})
    messages = {p.field: p.message for p in err.value.problems}
    assert set(messages) == {"train.lr", "train.optimizer", "model.cell"}
    assert "at least" in messages["train.lr"]
    assert "sgd" in messages["train.optimizer"] and "gru" in messages["model.cell"]


@pytest.mark.parametrize("change, field", [
    ({"task": {"min_len": 60, "max_len": 49}}, "task.min_len"),
    ({"task": {"name": "cumsum"}, "train": {"steps": 0}}, "train.steps"),
    ({"model": {"cell": "gru", "backend": "manual"}}, "model.backend"),
    ({"task": {"name": "echo", "stream_length": 100}, "train": {"batch_size": 50, "num_steps": 5}}, "train.batch_size"),
    ({"train": {"device": "tpu"}}, "train.device"),
])
def test_rules_between_fields_name_the_field_to_change(change, field):
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict(change)
    assert field in err.value.fields


def test_every_field_has_form_metadata():
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            meta = field_meta(section, f.name)
            assert meta["label"] and meta["help"], f"{section}.{f.name}"
            if isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
                assert "min" in meta and "max" in meta, f"{section}.{f.name}"


@pytest.mark.parametrize("name", ["default", "seed000_cumsum", "seed000_cumsum_fast", "seed002_echo_ns1",
                                  "seed002_echo_ns5", "seed002_echo_ns10"])
def test_training_presets_exist_and_are_valid(name):
    assert name in list_presets("train")
    data = load_preset("train", name)
    assert isinstance(data["order"], int) and data["title"]
    config = ExperimentConfig.from_dict(data)
    assert config.title == data["title"]


def test_faithful_presets_match_the_sources():
    c = ExperimentConfig.from_dict(load_preset("train", "seed000_cumsum"))
    assert (c.model.cell, c.model.hidden_size, c.model.init_scale) == ("vanilla", 256, 0.1)
    assert (c.train.optimizer, c.train.lr, c.train.schedule, c.train.decay_rate, c.train.decay_steps) == \
        ("sgd", 0.01, "staircase", 0.1, 15000)
    assert (c.train.batch_size, c.train.clip_norm, c.train.steps, c.train.bptt) == (1, 1.0, 45000, "full")
    for name, ns, state, epochs in [("seed002_echo_ns1", 1, 4, 1), ("seed002_echo_ns5", 5, 4, 1),
                                    ("seed002_echo_ns10", 10, 16, 10)]:
        c = ExperimentConfig.from_dict(load_preset("train", name))
        assert (c.task.name, c.task.stream_length, c.model.hidden_size) == ("echo", 1_000_000, state)
        assert (c.train.optimizer, c.train.lr, c.train.batch_size, c.train.clip_norm) == ("adagrad", 0.1, 200, 0.0)
        assert (c.train.bptt, c.train.num_steps, c.train.steps, c.train.epochs) == ("truncated", ns, 0, epochs)


def _field_values(section):
    from hypothesis import strategies as st

    values = {}
    for f in dataclasses.fields(SECTIONS[section]):
        meta = f.metadata
        if "choices" in meta:
            values[f.name] = st.sampled_from(meta["choices"])
        elif isinstance(f.default, int):
            values[f.name] = st.integers(meta["min"], min(meta["max"], 10**6))
        elif isinstance(f.default, float):
            values[f.name] = st.floats(meta["min"], meta["max"], allow_nan=False)
    return st.fixed_dictionaries({}, optional=values)


def test_any_in_range_values_round_trip_or_name_their_field():
    from hypothesis import given, settings

    @settings(max_examples=60, deadline=None)
    @given(task=_field_values("task"), model=_field_values("model"), train=_field_values("train"))
    def check(task, model, train):
        data = {"task": task, "model": model, "train": train}
        try:
            config = ExperimentConfig.from_dict(data)
        except ConfigError as err:  # only the rules between fields may object to in-range values
            # ... and the cost budget, on the fields whose combination is too big (lab/cost.py)
            costly = {"model.hidden_size", "model.layers", "task.heldout_size", "task.stream_length",
                      "task.max_len", "task.copy_delay", "task.adding_length", "train.num_steps"}
            assert set(err.fields) <= {"task.min_len", "train.steps", "model.backend", "train.batch_size", "model.custom"} | costly
            return
        assert ExperimentConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config

    check()
