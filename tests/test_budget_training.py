"""Training configs whose in-range values combine into something huge are refused by
validate() on the field(s) to change, with the estimate in bytes (issue 9, item 3)."""

import time

import pytest

from explorer.core import budget
from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig


def refusal(data) -> list:
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(data)
    assert time.perf_counter() - start < 1.0  # from the fields alone: nothing is built
    problems = info.value.problems
    for p in problems:
        assert "bytes" in p.message and budget.ENV in p.message, p.message
    return problems


def test_model_times_batch_times_length():
    problems = refusal({"model": {"hidden_size": 8192, "layers": 16, "cell": "lstm"},
                        "train": {"batch_size": 65_536}})
    assert problems[0].field == "train.batch_size"
    assert "TB" in problems[0].message and "65,536 sequences" in problems[0].message


def test_the_model_alone():
    problems = refusal({"model": {"hidden_size": 8192, "layers": 16, "cell": "lstm"}, "train": {"batch_size": 1}})
    assert problems[0].field == "model.hidden_size" and {p.field for p in problems} >= {"model.layers"}


def test_the_heldout_set():
    problems = refusal({"task": {"heldout_size": 100_000, "max_len": 10_000}})
    assert problems[0].field == "task.heldout_size" and "100,000 sequences x 10,000 steps" in problems[0].message


def test_the_copy_task():
    problems = refusal({"task": {"name": "copy", "copy_delay": 10_000}, "train": {"batch_size": 256}})
    assert {p.field for p in problems} & {"task.copy_delay"}


def test_the_echo_stream():
    problems = refusal({"task": {"name": "echo", "stream_length": 100_000_000}, "train": {"steps": 0}})
    assert problems[0].field == "task.stream_length"


def test_the_budget_setting_applies(monkeypatch):
    ExperimentConfig.from_dict({"train": {"batch_size": 4096}})  # fits 2 GiB
    monkeypatch.setenv(budget.ENV, str(10**6))
    problems = refusal({"train": {"batch_size": 4096}})
    assert problems[0].field == "train.batch_size"


def test_presets_and_defaults_fit():
    from explorer.core.presets import list_presets, load_preset

    assert ExperimentConfig().validate() == []
    for name in list_presets("train"):
        ExperimentConfig.from_dict(load_preset("train", name))
