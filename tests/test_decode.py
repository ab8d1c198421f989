"""One decoder (explorer/core/decode.py) reads ExperimentConfig and ScanSpec from JSON or
TOML data: types from the field annotations, nested dataclasses at any depth, every problem
at once on its path; limits from the field metadata (issue 9, item 6)."""

import dataclasses
from dataclasses import dataclass, field

import pytest

from explorer.core.decode import decode, limit_problems
from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig, field_meta
from explorer.core.presets import read_json
from explorer.core.spec import ScanSpec


@dataclass(frozen=True)
class Gate:
    bias: float = field(default=0.0, metadata={"min": -1.0, "max": 1.0})  # a limit in metadata
    kind: str = field(default="sigmoid", metadata={"choices": ["sigmoid", "tanh"]})


@dataclass(frozen=True)
class Cell:  # what a nested custom-cell section may look like
    name: str = "mine"
    gates: tuple[Gate, ...] = ()
    forget: Gate = field(default_factory=Gate)
    taps: tuple[int, ...] = (-1,)
    steps: int | None = None


def test_nested_dataclasses_decode_at_any_depth():
    cell, problems = decode(Cell, {"gates": [{"bias": 0.5}, {}], "forget": {"kind": "tanh"}, "taps": -2,
                                   "steps": 3.0})
    assert problems == []
    assert cell == Cell(gates=(Gate(0.5), Gate()), forget=Gate(kind="tanh"), taps=(-2,), steps=3)


def test_every_problem_is_named_by_its_path():
    _, problems = decode(Cell, {"gates": [{"bias": "x"}, {"nope": 1}], "forget": [], "taps": [1, "a"],
                                "steps": True, "extra": 0}, "cell")
    fields = {p.field for p in problems}
    assert fields == {"cell.gates[0].bias", "cell.gates[1].nope", "cell.forget", "cell.taps", "cell.steps",
                      "cell.extra"}


def test_limits_come_from_the_metadata():
    meta = dataclasses.fields(Gate)[0].metadata
    assert limit_problems(meta, 2.0, "cell.forget.bias", float)[0].message == "is 2.0; it must be at most 1.0"
    assert "finite" in limit_problems(meta, float("nan"), "b", float)[0].message
    assert field_meta("train", "lr")["max"] == 1e9  # the public metadata is unchanged


def test_experiment_configs_load_from_toml_and_json_alike(tmp_path):
    toml = tmp_path / "exp.toml"
    toml.write_text('title = "t"\n[train]\nlr = 0.01\nbatch_size = 8\n[model]\ncell = "gru"\n')
    json_file = tmp_path / "exp.json"
    json_file.write_text('{"title": "t", "train": {"lr": 0.01, "batch_size": 8}, "model": {"cell": "gru"}}')
    a, b = (ExperimentConfig.from_dict(read_json(p)) for p in (toml, json_file))
    assert a == b and a.train.lr == 0.01 and a.model.cell == "gru"
    bad = tmp_path / "bad.toml"
    bad.write_text('[train]\nlr = 1e300\nbatch_size = "many"\n')
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(read_json(bad))
    assert set(info.value.fields) == {"train.batch_size"}  # types first, then the limits
    bad.write_text('[train]\nlr = 1e300\n')
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(read_json(bad))
    assert info.value.fields == ["train.lr"] and "at most" in str(info.value)
    bad.write_text('[train]\nlr = inf\n')  # the file reader refuses non-finite literals, naming the line
    with pytest.raises(ConfigError, match="bad.toml"):
        ExperimentConfig.from_dict(read_json(bad))


def test_scan_specs_load_from_toml(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('n_steps = 3\nuntil = ""\n[[outputs]]\nname = "k"\nexpression = "k + 1"\ninitial = 0\n')
    spec = ScanSpec.from_dict(read_json(path))
    assert spec.outputs[0].initial == "0" and spec.until is None and spec.n_steps == 3


def test_the_scan_spec_keeps_its_structure_messages():
    with pytest.raises(ConfigError) as info:
        ScanSpec.from_dict({"sequences": [{"name": "x"}], "outputs": "y", "n_step": 3, "go_backwards": "yes",
                            "seed": 1.5})
    assert set(info.value.fields) == {"sequences[0].data", "outputs", "n_step", "go_backwards", "seed"}
