"""Every training preset runs (a few steps each), and the device settings behave."""

import dataclasses

import pytest
import torch

from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.device import resolve_device, set_threads
from explorer.core.lab.training import Trainer
from explorer.core.presets import list_presets, load_preset


@pytest.mark.parametrize("name", list_presets("train"))
def test_preset_runs(name):
    config = ExperimentConfig.from_dict(load_preset("train", name))
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=3))
    trainer = Trainer(config)
    reports = list(trainer.reports())
    assert [r.step for r in reports] == [1, 2, 3]
    assert reports[-1].status == "finished" and reports[-1].heldout_loss > 0
    assert reports[-1].probe is not None


def test_echo_preset_epochs_count_the_sources_windows():
    config = ExperimentConfig.from_dict(load_preset("train", "seed002_echo_ns10"))
    trainer = Trainer(config)
    assert trainer.total_steps == 10 * (1_000_000 // 200 // 10)
    assert trainer.task.reference_lines()["t-3 only"] == pytest.approx(0.5192, abs=1e-4)


def test_device_choice():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError) as err:
            resolve_device("cuda")
        assert err.value.fields == ["train.device"] and "auto or cpu" in str(err.value)


def test_thread_setting():
    before = torch.get_num_threads()
    try:
        set_threads(1)
        assert torch.get_num_threads() == 1
        set_threads(0)  # 0 leaves it alone
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
