"""Files: configs as JSON, checkpoints that refuse anything foreign (metrics CSV: test_runs_metrics.py)."""

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from explorer.core.errors import ConfigError, ExplorerError
from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.persistence import (
    CheckpointError, load_checkpoint, load_config, save_config,
)
from explorer.core.lab.training import Trainer

CONFIG = ExperimentConfig(task=TaskConfig(max_len=10), model=ModelConfig(hidden_size=4),
                          train=TrainConfig(steps=6, batch_size=2, report_every=2), title="tiny")


def test_config_json_round_trip_and_errors(tmp_path):
    save_config(tmp_path / "c.json", CONFIG)
    assert load_config(tmp_path / "c.json") == CONFIG
    (tmp_path / "bad.json").write_text(json.dumps({"train": {"lr": "fast"}}))
    with pytest.raises(ConfigError, match="train.lr"):
        load_config(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(tmp_path / "broken.json")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "run.safetensors"
    trainer = Trainer(CONFIG)
    list(trainer.reports())
    trainer.checkpoint(path)
    return path


def test_checkpoint_holds_the_config_and_weights(checkpoint):
    tensors, meta = load_checkpoint(checkpoint)
    assert meta["config"] == CONFIG and meta["step"] == 6
    assert "model.rnn.weight_hh_l0" in tensors and "trainer.ema" in tensors


def corrupt(path, checkpoint):
    data = checkpoint.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def random_bytes(path, checkpoint):
    path.write_bytes(bytes(range(256)) * 8)


def foreign_safetensors(path, checkpoint):
    save_file({"weight": torch.zeros(3)}, str(path))


def foreign_pt(path, checkpoint):
    torch.save({"state_dict": {"w": torch.zeros(2)}}, path)


class Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def pickled_code(path, checkpoint):
    torch.save({"format": "scan-explorer-checkpoint/1", "evil": Payload()}, path)


def plain_pickle(path, checkpoint):
    path.write_bytes(pickle.dumps(Payload()))


def a_config(path, checkpoint):
    save_config(path, CONFIG)


@pytest.mark.parametrize("make, suffix, words", [
    (corrupt, ".safetensors", "corrupt"),
    (random_bytes, ".safetensors", "corrupt"),
    (foreign_safetensors, ".safetensors", "not a Scan Explorer checkpoint"),
    (foreign_pt, ".pt", "not a Scan Explorer checkpoint"),
    (pickled_code, ".pt", "weights_only=True"),
    (plain_pickle, ".pt", "weights_only=True"),
    (a_config, ".json", "JSON"),
    (a_config, ".safetensors", "JSON"),
    (corrupt, ".pt", "corrupt"),
])
def test_corrupt_or_foreign_files_give_a_clear_error(tmp_path, checkpoint, make, suffix, words, capsys):
    path = tmp_path / f"file{suffix}"
    make(path, checkpoint)
    with pytest.raises(CheckpointError, match=words) as err:
        Trainer.resume(path)
    assert isinstance(err.value, ExplorerError) and str(path) in str(err.value)
    assert "must never run" not in capsys.readouterr().out


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing.safetensors")
