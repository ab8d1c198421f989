"""Non-finite and divergence reports (issue 9 item 7, issue 10 item 5), the thread cap
(issue 9 item 12) and device errors that name the field and what is available."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig, TrainConfig
from explorer.core.lab.device import cores, resolve_device, set_threads
from explorer.core.lab.diagnostics import DIVERGED_FACTOR, divergence_message, grad_norms
from explorer.core.lab.reports import DIVERGED, FINISHED, NONFINITE
from explorer.core.lab.training import Trainer
from explorer.core.presets import load_preset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ExperimentConfig.from_dict(load_preset("train", "default"))  # the 32-unit GRU of the findings


def config(**train) -> ExperimentConfig:
    return dataclasses.replace(DEFAULT, task=dataclasses.replace(DEFAULT.task, heldout_size=16),
                               train=dataclasses.replace(DEFAULT.train, eval_every=0, probe_every=0, **train))


def last(cfg):
    return list(Trainer(cfg).reports())[-1]


def test_gradient_norms_do_not_overflow_in_float32():
    grads = [torch.full((96, 32), 4.8e22), torch.ones(3)]  # finite, but the squares pass float32's max
    norms32, total32 = grad_norms(grads)
    assert not torch.isfinite(total32)  # the old computation
    norms, total = grad_norms(grads, torch.float64)
    assert torch.isfinite(total) and abs(float(total) / (4.8e22 * (96 * 32) ** 0.5) - 1) < 1e-6


def test_sgd_at_lr_1e6_names_what_really_overflowed():
    """Before: 'step 3: a value became non-finite', though the gradients were finite (max 4.8e22)
    and only the float32 norm overflowed. Now step 3 goes through and the report names the tensor."""
    report = last(config(optimizer="sgd", lr=1e6, clip_norm=0.0, steps=10))
    assert report.status == NONFINITE and report.step > 3
    assert "a value became non-finite" not in report.message and "no parameter" not in report.message
    assert "(first non-finite tensor)" in report.message, report.message


def test_a_finite_divergence_is_flagged_and_a_healthy_run_is_not():
    diverged = last(config(lr=1e9, steps=30))  # Adam at lr 1e9: held-out ~1e19, all finite
    assert diverged.status == DIVERGED and diverged.done
    assert diverged.message.startswith("diverged") and "train.lr" in diverged.message.lower()
    assert diverged.heldout_loss > DIVERGED_FACTOR * 14
    healthy = last(config(steps=30))
    assert healthy.status == FINISHED and healthy.message == "finished"


def test_the_divergence_rule():
    refs = {"predict 0": 14.0, "source": 0.024}
    assert divergence_message(4.4e19, 12.0, refs, 1e9, 1.0).startswith("diverged")
    assert "'predict 0' loss (14)" in divergence_message(4.4e19, 12.0, refs, 1e9, 1.0)
    assert divergence_message(13.9e3, 12.0, refs, 1e-3, 1.0) is None  # just under 1000x the scale
    assert divergence_message(0.02, 12.0, refs, 1e-3, 1.0) is None  # learned
    assert divergence_message(1e7, 1e5, refs, 1e-3, 1.0) is None  # started that high (init_scale 10)
    assert "first training loss" in divergence_message(1e9, 1e5, refs, 1e-3, 1.0)
    assert "first training loss" in divergence_message(5e3, 2.0, {}, 1e-3, None)  # no reference lines
    assert "clipping" in divergence_message(5e3, 2.0, {}, 1e-3, None)
    assert divergence_message(None, 2.0, refs, 1e-3, None) is None


def test_the_cli_json_status_says_diverged(tmp_path):
    path = tmp_path / "c.json"
    data = config(lr=1e9, steps=25).to_dict()
    path.write_text(json.dumps(data))
    out = subprocess.run([sys.executable, "main.py", "train", str(path), "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    summary = json.loads(out.stdout)
    assert summary["status"] == "diverged" and summary["message"].startswith("diverged"), out.stderr


@pytest.fixture
def one_thread():
    yield
    torch.set_num_threads(1)


def test_threads_above_the_cores_are_capped_with_a_message(one_thread):
    many = cores() + 3
    note = set_threads(many)
    assert torch.get_num_threads() == cores() and f"train.threads is {many}" in note
    assert set_threads(1) is None and torch.get_num_threads() == 1
    report = last(config(steps=2, threads=many))
    assert report.status == FINISHED and f"train.threads is {many}" in report.message
    assert f"using {cores()}" in report.message


def test_device_errors_name_the_field_and_what_is_available():
    for name in ("banana", "cuda:99", "cpu:3", "mps"):
        if name.startswith("cuda") and not torch.cuda.is_available():
            continue
        with pytest.raises(ConfigError) as err:
            resolve_device(name)
        assert err.value.fields == ["train.device"] and "available here: cpu" in str(err.value)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU is available here") as err:
            resolve_device("cuda")
        assert "available here: cpu" in str(err.value)
    with pytest.raises(ConfigError) as err:
        resolve_device("banana", field="--device")
    assert err.value.fields == ["--device"]
    assert TrainConfig().device == "auto" and resolve_device("auto").type in ("cpu", "cuda")


def test_scan_with_a_bad_device_exits_2():
    """tests/bad_inputs runs --device cuda / banana through both commands."""
    out = subprocess.run([sys.executable, "main.py", "scan", "fibonacci", "--device", "banana"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-1500:]
    assert "--device" in out.stderr and "available here" in out.stderr


def test_a_closed_stdout_is_no_traceback():
    for command in ("presets",):
        out = subprocess.run(f"{sys.executable} main.py {command} | true", shell=True, cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr
