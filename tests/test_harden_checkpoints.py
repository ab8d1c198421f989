"""Damaged checkpoints are refused before anything is loaded, naming the tensor or field
(issue 9, item 1). The segfault case runs in a subprocess: before the fix it killed the
process (exit 139 inside Adam's fused step)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.persistence import FORMAT, CheckpointError
from explorer.core.lab.training import Trainer

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ExperimentConfig(task=TaskConfig(max_len=8, heldout_size=4), model=ModelConfig(cell="gru", hidden_size=4),
                          train=TrainConfig(steps=3, batch_size=2, report_every=3, eval_every=0, probe_every=0,
                                            flow_every=0))
ECHO = ExperimentConfig(task=TaskConfig(name="echo", stream_length=400, heldout_size=2),
                        model=ModelConfig(cell="lstm", hidden_size=3, layers=2),
                        train=TrainConfig(steps=3, batch_size=2, bptt="truncated", num_steps=5, report_every=3,
                                          eval_every=0, probe_every=0, flow_every=0, optimizer="adagrad"))


def make_checkpoint(path, config, steps=None):
    trainer = Trainer(config)
    for _ in zip(range(config.train.steps if steps is None else steps), trainer.reports()):
        pass
    trainer.checkpoint(path)
    return path


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ck") / "good.safetensors", CONFIG)


@pytest.fixture(scope="module")
def echo(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ck") / "echo.safetensors", ECHO)


def read_raw(path):
    with safe_open(str(path), "pt") as fh:
        meta = json.loads(fh.metadata()["meta"])
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    return tensors, meta


def write_raw(path, tensors, meta):
    save_file(tensors, str(path), metadata={"format": FORMAT, "meta": json.dumps(meta)})
    return path


def damaged(src, dst, change):
    tensors, meta = read_raw(src)
    change(tensors, meta)
    return write_raw(dst, tensors, meta)


def cut_optimizer(t, m):
    for k in list(t):
        if k.startswith("optim.") and t[k].dim() > 0:
            t[k] = t[k].flatten()[:3].clone()


def test_cut_optimizer_tensors_exit_2_instead_of_a_segfault(tmp_path):
    import dataclasses

    from explorer.core.presets import load_preset

    default = ExperimentConfig.from_dict(load_preset("train", "default"))  # a 32-unit GRU: it segfaulted
    config = dataclasses.replace(default, task=dataclasses.replace(default.task, heldout_size=4),
                                 train=dataclasses.replace(default.train, steps=2))
    good = make_checkpoint(tmp_path / "good.safetensors", config)
    bad = damaged(good, tmp_path / "cut.safetensors", cut_optimizer)
    out = subprocess.run([sys.executable, "main.py", "train", str(bad), "--steps", "6"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])  # was -11 (exit 139): a segfault
    assert "Traceback" not in out.stderr
    assert "'optim.0.exp_avg' is 3 float32" in out.stderr and "96x1 float32" in out.stderr


def _set(section, key, value):
    def change(t, m):
        m["config"][section][key] = value
    return change


def _meta(key, value):
    def change(t, m):
        m[key] = value
    return change


def _drop(name):
    def change(t, m):
        del t[name]
    return change


def _tensor(name, value):
    def change(t, m):
        t[name] = value
    return change


def _drop_meta(key):
    def change(t, m):
        del m[key]
    return change


def _as_double(t, m):
    t["model.readout.weight"] = t["model.readout.weight"].double()


def _nan_weight(t, m):
    t["model.rnn.weight_hh_l0"][0, 0] = float("nan")


def _cut_one_optimizer_tensor(t, m):
    t["optim.2.exp_avg_sq"] = t["optim.2.exp_avg_sq"][:1].clone()


CASES = [  # (change, words the error must hold)
    (_set("model", "hidden_size", 8), "'model.rnn.weight_ih_l0' is 12x1 float32 but the model its config builds (gru, hidden_size 8"),  # metadata config vs. tensors: shape
    (_set("model", "cell", "lstm"), "model.rnn."),  # cell mismatch
    (_set("model", "layers", 2), "model.rnn.weight_ih_l1"),  # a layer the tensors lack
    (_drop("model.readout.weight"), "'model.readout.weight' is missing"),
    (_drop("trainer.ema"), "'trainer.ema' is missing"),
    (_tensor("trainer.n_clipped", torch.zeros(3)), "trainer.n_clipped"),
    (_meta("step", "ten"), "'step'"),
    (_meta("step", -5), "'step'"),
    (_meta("step", 2**64), "'step'"),
    (_meta("step", 2.5), "'step'"),
    (_meta("epoch", None), "'epoch'"),
    (_meta("elapsed_s", -1), "'elapsed_s'"),
    (_meta("elapsed_s", float("inf")), "Infinity"),  # json.dumps writes the literal Infinity
    (_meta("lr_override", -1), "'lr_override'"),
    (_meta("lr_override", "nan"), "'lr_override'"),
    (_meta("lr_override", float("nan")), "NaN"),
    (_meta("lr_override", 1e300), "'lr_override'"),
    (_meta("clip", -1), "'clip'"),
    (_meta("clip", True), "'clip'"),
    (_meta("optim_scalars", [1, 2]), "'optim_scalars'"),
    (_meta("optim_scalars", {"0.step": "x"}), "optim_scalars['0.step']"),
    (_meta("optim_scalars", {"0.bogus": 1}), "'0.bogus'"),
    (_drop_meta("epoch"), "no 'epoch' field"),
    (_drop_meta("optim_scalars"), "no 'optim_scalars' field"),
    (_as_double, "'model.readout.weight' is 1x4 float64"),
    (_nan_weight, "'model.rnn.weight_hh_l0' holds NaN"),
    (_cut_one_optimizer_tensor, "'optim.2.exp_avg_sq' is 1 float32"),
    (_drop("optim.1.exp_avg_sq"), "lacks 'optim.1.exp_avg_sq'"),
    (_tensor("optim.99.exp_avg", torch.zeros(2)), "'optim.99.exp_avg'"),
    (_tensor("optim.0.momentum_buffer", torch.zeros(12, 1)), "'optim.0.momentum_buffer'"),
    (_tensor("carry.0.0", torch.zeros(2, 4)), "'carry.0.0'"),  # carried state with full BPTT
    (_tensor("extra", torch.zeros(1)), "'extra'"),
]


@pytest.mark.parametrize("change, words", CASES, ids=[f"{i}-{w[:24]}" for i, (_, w) in enumerate(CASES)])
def test_a_damaged_checkpoint_is_refused_naming_the_tensor_or_field(good, tmp_path, change, words):
    bad = damaged(good, tmp_path / "bad.safetensors", change)
    with pytest.raises(CheckpointError) as err:
        Trainer.resume(bad)
    assert words in str(err.value) and str(bad) in str(err.value)


def _carry_shape(t, m):
    t["carry.1.1"] = torch.zeros(5, 3)


def _carry_part_missing(t, m):
    del t["carry.1.1"]


@pytest.mark.parametrize("change, words", [
    (_carry_shape, "'carry.1.1' is 5x3 float32"),
    (_carry_part_missing, "lacks 'carry.1.1'"),
    (_tensor("carry.2.0", torch.zeros(2, 3)), "'carry.2.0'"),
    (_meta("optim_scalars", {}), None),  # adagrad keeps no scalars: an empty dict is right
])
def test_carried_state_of_truncated_bptt_is_checked(echo, tmp_path, change, words):
    bad = damaged(echo, tmp_path / "bad.safetensors", change)
    if words is None:
        assert Trainer.resume(bad).step == 3
        return
    with pytest.raises(CheckpointError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Trainer.resume(bad)


def test_pt_checkpoints_without_tensors_are_refused(good, tmp_path):
    tensors, meta = read_raw(good)
    for name, payload, words in [
        ("none.pt", {"format": FORMAT, "meta": json.dumps(meta)}, "without tensors"),
        ("empty.pt", {"format": FORMAT, "meta": json.dumps(meta), "tensors": {}}, "without tensors"),
        ("list.pt", {"format": FORMAT, "meta": json.dumps(meta), "tensors": [1, 2]}, "without tensors"),
        ("number.pt", {"format": FORMAT, "meta": json.dumps(meta), "tensors": {"model.x": 3}}, "not a tensor"),
        ("nometa.pt", {"format": FORMAT, "tensors": tensors}, "metadata is missing"),
        ("badmeta.pt", {"format": FORMAT, "meta": "[1, 2]", "tensors": tensors}, "metadata is damaged"),
        ("deepmeta.pt", {"format": FORMAT, "meta": "[" * 5000 + "]" * 5000, "tensors": tensors}, "deep"),
    ]:
        torch.save(payload, tmp_path / name)
        with pytest.raises(CheckpointError, match=words):
            Trainer.resume(tmp_path / name)
    torch.save({"format": FORMAT, "meta": json.dumps(meta), "tensors": tensors}, tmp_path / "ok.pt")
    assert Trainer.resume(tmp_path / "ok.pt").step == 3


def test_a_safetensors_file_without_tensors_is_refused(good, tmp_path):
    _, meta = read_raw(good)
    path = write_raw(tmp_path / "empty.safetensors", {}, meta)
    with pytest.raises(CheckpointError, match="without tensors"):
        Trainer.resume(path)


def test_only_regular_files_of_bounded_size_are_read(good, tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "fifo.safetensors")
    (tmp_path / "zero.safetensors").symlink_to("/dev/zero")
    (tmp_path / "dir.safetensors").mkdir()
    for name, words in [("fifo", "FIFO"), ("zero", "character device"), ("dir", "directory")]:
        with pytest.raises(CheckpointError, match=words):
            Trainer.resume(tmp_path / f"{name}.safetensors")  # at once: a FIFO would block an open()
    monkeypatch.setenv("SCAN_EXPLORER_MAX_CHECKPOINT_BYTES", "1000")
    with pytest.raises(CheckpointError, match="over the 1000 bytes limit"):
        Trainer.resume(good)


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.9), ("sgd", 0.0), ("rmsprop", 0.5), ("adam", 0.0)])
def test_sound_checkpoints_of_every_optimizer_still_resume(tmp_path, optimizer, momentum):
    import dataclasses

    config = dataclasses.replace(CONFIG, train=dataclasses.replace(CONFIG.train, optimizer=optimizer,
                                                                   momentum=momentum))
    path = make_checkpoint(tmp_path / "c.safetensors", config)
    trainer = Trainer.resume(path, steps=5)
    assert trainer.step == 3 and list(trainer.reports())[-1].step == 5
    at_zero = make_checkpoint(tmp_path / "zero.safetensors", config, steps=0)  # no optimizer state yet
    assert Trainer.resume(at_zero).step == 0


def test_the_echo_checkpoint_with_carried_state_resumes_exactly(echo):
    trainer = Trainer.resume(echo, steps=4)
    assert trainer.carry is not None and len(trainer.carry) == 2
    assert list(trainer.reports())[-1].step == 4
