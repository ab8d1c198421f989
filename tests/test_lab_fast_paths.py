"""The numba backend equals the scan path: outputs, final states, every gradient, gradient flow,
for every cell, stacked layers, carried state, masked losses, gradcheck in float64, training."""

import dataclasses
import os
import subprocess
import sys

import pytest
import torch

from explorer.core.lab import fast
from explorer.core.lab.config import (
    ExperimentConfig,
    ModelConfig,
    TaskConfig,
    TrainConfig,
)
from explorer.core.lab.losses import masked_mse
from explorer.core.lab.models import build_model, resolve_backend
from explorer.core.lab.training import Trainer

needs_numba = pytest.mark.skipif(not fast.AVAILABLE, reason=f"numba backend off: {fast.why_unavailable()}")
CELLS = ("vanilla", "relu", "gru", "lstm")


def _flat(state):
    return [t for s in state for t in (s if isinstance(s, tuple) else (s,))]


def _state(model, batch, gen, dtype):
    def one():
        return (torch.randn(batch, model.config.hidden_size, generator=gen) * 0.5).to(dtype)

    return tuple((one(), one()) if model.cell.two_states else one() for _ in range(model.config.layers))


def _run(model, backend, x, state, y, mask):
    """Masked loss on the outputs plus a term on every final state, so each path gets a gradient."""
    model.zero_grad()
    state = tuple(tuple(p.clone().requires_grad_() for p in s) if isinstance(s, tuple) else
                  s.clone().requires_grad_() for s in state)
    out = model(x, state, backend=backend, watch=True)
    loss = masked_mse(out.outputs, y, mask) + sum(s.pow(2).sum() for s in _flat(out.final))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    grads.update({f"state{k}": s.grad.clone() for k, s in enumerate(_flat(state))})
    if backend == "numba":
        flow = torch.stack(out.watched)  # (L, T)
    else:
        flow = torch.stack([torch.stack([h.grad.norm() for h in layer]) for layer in out.watched])  # (L, T)
    return out, grads, flow


@needs_numba
@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_numba_equals_scan(cell, layers, dtype, tol):
    gen = torch.Generator().manual_seed(layers)
    scale = 0.3 if cell != "relu" else 0.1
    model = build_model(ModelConfig(cell=cell, hidden_size=12, layers=layers, init_scale=scale), 3, 2, seed=1)
    model = model.to(dtype)
    if cell == "relu":  # identity W_hh grows without bound; shrink it to keep the numbers O(1)
        with torch.no_grad():
            for k in range(layers):
                model.layer_weights(k)[1].mul_(0.5)
    T, B = 8, 4
    x = torch.randn(T, B, 3, generator=gen).to(dtype)
    y = torch.randn(T, B, 2, generator=gen).to(dtype)
    mask = (torch.arange(T)[:, None] < torch.tensor([8, 5, 3, 1])[None]).to(dtype)  # (T, B) variable lengths
    state = _state(model, B, gen, dtype)
    ref, ref_grads, ref_flow = _run(model, "scan", x, state, y, mask)
    out, grads, flow = _run(model, "numba", x, state, y, mask)
    close = {"atol": tol, "rtol": tol}
    torch.testing.assert_close(out.outputs, ref.outputs, **close)
    torch.testing.assert_close(out.states, ref.states, **close)
    for a, b in zip(out.layer_states, ref.layer_states):
        torch.testing.assert_close(a, b, **close)
    for a, b in zip(_flat(out.final), _flat(ref.final)):
        torch.testing.assert_close(a, b, **close)
    for name in ref_grads:
        torch.testing.assert_close(grads[name], ref_grads[name], **close, msg=lambda m, name=name: f"{name}: {m}")
    torch.testing.assert_close(flow, ref_flow, **close)


@needs_numba
@pytest.mark.parametrize("cell", CELLS)
def test_gradcheck_float64(cell):
    from explorer.core.lab.fast.layer import run_layer

    gen = torch.Generator().manual_seed(3)
    model = build_model(ModelConfig(cell=cell, hidden_size=4, init_scale=0.5), 2, 1, seed=2).double()
    weights = [w.detach().clone().requires_grad_() for w in model.layer_weights(0)]
    x = torch.randn(5, 3, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)

    def f(x, h0, c0, *w):
        hs, final = run_layer(cell, x, (h0, c0) if cell == "lstm" else h0, w, x.new_zeros(5))
        return (hs, *final) if cell == "lstm" else (hs,)

    assert torch.autograd.gradcheck(f, (x, h0, c0, *weights), atol=1e-7)


def _config(cell, backend, bptt="full", **train):
    return ExperimentConfig(
        task=TaskConfig(min_len=3, max_len=9, heldout_size=8),
        model=ModelConfig(cell=cell, hidden_size=8, layers=2, backend=backend),
        train=TrainConfig(batch_size=3, steps=12, bptt=bptt, num_steps=4, report_every=1, flow_every=3,
                          probe_every=4, eval_every=6, **train))


@needs_numba
@pytest.mark.parametrize("cell, bptt", [("vanilla", "full"), ("gru", "truncated"), ("lstm", "truncated"),
                                        ("relu", "full")])
def test_training_through_numba_matches_scan(cell, bptt):
    """N steps (Adam, clipping, carried state in truncated windows): same losses, norms, flow, probe."""
    runs = {b: [r for r in Trainer(_config(cell, b, bptt)).reports() if r.full] for b in ("scan", "numba")}
    assert Trainer(_config(cell, "auto")).backend == "numba"  # auto picks it on a CPU at this size
    for a, b in zip(runs["scan"], runs["numba"], strict=True):
        assert a.step == b.step
        assert a.loss == pytest.approx(b.loss, rel=1e-5, abs=1e-6)
        assert a.grad_norm == pytest.approx(b.grad_norm, rel=1e-4, abs=1e-6)
        assert (a.grad_flow is None) == (b.grad_flow is None)
        if a.grad_flow is not None:
            torch.testing.assert_close(torch.tensor(b.grad_flow_layers), torch.tensor(a.grad_flow_layers),
                                       atol=1e-5, rtol=1e-4)
        if a.heldout_loss is not None:
            assert a.heldout_loss == pytest.approx(b.heldout_loss, rel=1e-5)
        if a.probe is not None:
            torch.testing.assert_close(torch.tensor(b.probe.layer_states), torch.tensor(a.probe.layer_states),
                                       atol=1e-5, rtol=1e-5)


def test_numba_is_never_chosen_or_allowed_on_cuda():
    from explorer.core.errors import ConfigError

    gpu = torch.device("cuda")
    for cell in CELLS:
        assert resolve_backend(ModelConfig(cell=cell), gpu) == "fused"  # cuDNN
    with pytest.raises(ConfigError, match="model.backend"):
        resolve_backend(ModelConfig(cell="gru", backend="numba"), gpu)


def test_without_numba_auto_falls_back_to_the_torch_paths():
    """A real process with EXPLORER_NO_NUMBA=1: auto picks manual / fused and trains; numba asked is an error."""
    code = """
import torch
from explorer.core.lab import fast
from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.models import resolve_backend
from explorer.core.lab.training import Trainer
from explorer.core.errors import ConfigError
assert not fast.AVAILABLE
cpu = torch.device("cpu")
print(resolve_backend(ModelConfig(cell="vanilla"), cpu), resolve_backend(ModelConfig(cell="lstm"), cpu))
cfg = ExperimentConfig(task=TaskConfig(min_len=3, max_len=6, heldout_size=4), model=ModelConfig(cell="gru", hidden_size=4),
                       train=TrainConfig(batch_size=2, steps=3, flow_every=2))
print(sum(1 for r in Trainer(cfg).reports()))
try:
    resolve_backend(ModelConfig(cell="gru", backend="numba"), cpu)
except ConfigError as e:
    print("error:", e)
"""
    env = dict(os.environ, EXPLORER_NO_NUMBA="1", PYTHONPATH=os.getcwd())
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "manual fused" and lines[1] == "3"
    assert "model.backend" in lines[2] and "EXPLORER_NO_NUMBA" in lines[2]


@needs_numba
def test_auto_keeps_numba_within_its_measured_limits_on_a_cpu():
    cpu = torch.device("cpu")
    lstm = dataclasses.replace(ModelConfig(cell="lstm"), hidden_size=256)
    assert resolve_backend(lstm, cpu, batch=64) == "numba"  # bench/auto_limits.py: 1.52x nn.LSTM
    assert resolve_backend(dataclasses.replace(lstm, hidden_size=512), cpu, batch=16) == "fused"  # oneDNN wins
    gru = dataclasses.replace(ModelConfig(cell="gru"), hidden_size=1024)
    assert resolve_backend(gru, cpu, batch=64) == "numba"
    assert resolve_backend(dataclasses.replace(gru, hidden_size=2048), cpu, batch=1) == "fused"  # not measured
    assert resolve_backend(dataclasses.replace(gru, cell="vanilla"), cpu, batch=128) == "manual"


@needs_numba
@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_fused_readout_and_masked_mse_equal_the_separate_ops(dtype, tol):
    from explorer.core.lab.fast.loss import readout_mse

    gen = torch.Generator().manual_seed(5)
    readout = torch.nn.Linear(6, 2).to(dtype)
    T, B = 7, 4
    states = torch.randn(T, B, 6, generator=gen, dtype=dtype, requires_grad=True)
    y = torch.randn(T, B, 2, generator=gen, dtype=dtype)
    mask = (torch.arange(T)[:, None] < torch.tensor([7, 4, 1, 0])[None]).to(dtype)  # one sequence has no step
    grads = []
    for fn in (lambda: masked_mse(readout(states), y, mask), lambda: readout_mse(states, readout, y, mask)):
        readout.zero_grad()
        states.grad = None
        loss = fn()
        (3.0 * loss).backward()  # a scaled upstream gradient
        grads.append((loss.detach(), states.grad.clone(), readout.weight.grad.clone(), readout.bias.grad.clone()))
    for a, b in zip(*grads):
        torch.testing.assert_close(b, a, atol=tol, rtol=tol)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_fast_optimizer_step_equals_torchs_step(optimizer):
    from explorer.core.lab.optim import fast_step, make_optimizer

    models = [build_model(ModelConfig(cell="gru", hidden_size=5), 2, 1, seed=4) for _ in range(2)]
    tr = TrainConfig(optimizer=optimizer, lr=0.05)
    opts = [make_optimizer(list(m.parameters()), tr) for m in models]
    steps = [opts[0].step, fast_step(opts[1])]
    assert steps[1] != opts[1].step  # the fast path is taken
    x = torch.randn(4, 3, 2, generator=torch.Generator().manual_seed(0))
    for k in range(4):
        for m, opt, step in zip(models, opts, steps):
            for group in opt.param_groups:
                group["lr"] = 0.05 / (k + 1)  # schedules change lr between steps
            for p in m.parameters():
                p.grad = None
            m(x).outputs.pow(2).sum().backward()
            step()
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        assert torch.equal(a, b)
    if optimizer == "adam":
        sa, sb = opts[0].state_dict()["state"], opts[1].state_dict()["state"]
        assert all(torch.equal(sa[i][k], sb[i][k]) and sa[i][k].dtype == sb[i][k].dtype for i in sa for k in sa[i])
        assert all(sa[i].keys() == sb[i].keys() for i in sa)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_and_checkpoints_never_import_dynamo(optimizer, tmp_path):
    """torch.optim's wrappers import torch._dynamo on first use (2.2 s here): every sweep worker,
    `train` and the window's first training paid it. A fresh process trains, saves and resumes
    a checkpoint without it."""
    import subprocess
    import sys

    code = f"""
import sys
from explorer.core.lab import ExperimentConfig, Trainer
cfg = ExperimentConfig.from_dict({{"train": {{"optimizer": "{optimizer}", "steps": 20, "eval_every": 10}}}})
trainer = Trainer(cfg)
for report in trainer.reports():
    pass
trainer.checkpoint(sys.argv[1])
again = Trainer.resume(sys.argv[1], steps=30)
for report in again.reports():
    pass
assert again.step == 30
assert "torch._dynamo" not in sys.modules, "torch._dynamo was imported"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c.pt")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
