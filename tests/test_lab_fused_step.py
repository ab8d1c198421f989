"""The fused training step (``fast.step``: forward, loss, backward, norms, clipping and the update
without torch's autograd or optimizer) equals the numba backend's autograd path it replaces,
step by step: losses, norms per tensor, gradient flow, weights and Adam's state. A resumed run
re-binds the flat buffers and continues exactly; what it cannot run falls back to autograd."""

import dataclasses
import threading

import pytest
import torch

from explorer.core.lab import fast
from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.training import Trainer

pytestmark = pytest.mark.skipif(not fast.AVAILABLE, reason=f"numba backend off: {fast.why_unavailable()}")


def _config(cell, layers=1, optimizer="adam", clip=1.0, bptt="full", steps=12, **train):
    return ExperimentConfig(
        task=TaskConfig(min_len=3, max_len=9, heldout_size=8),
        model=ModelConfig(cell=cell, hidden_size=8, layers=layers, backend="numba"),
        train=TrainConfig(optimizer=optimizer, lr=0.01, clip_norm=clip, batch_size=3, steps=steps, bptt=bptt,
                          num_steps=4, report_every=1, flow_every=3, probe_every=5, eval_every=6, **train))


def _pair(config):
    fused, autograd = Trainer(config), Trainer(config)
    assert fused.fused is not None
    autograd.fused = None  # the numba backend through torch's autograd and optimizer
    return fused, autograd


def _assert_same_run(a, b, tol=1e-5):
    ra, rb = [r for r in a.reports() if r.full], [r for r in b.reports() if r.full]
    assert [r.step for r in ra] == [r.step for r in rb] and ra[-1].status == rb[-1].status == "finished"
    for x, y in zip(ra, rb):
        assert x.loss == pytest.approx(y.loss, rel=tol, abs=tol)
        assert x.grad_norm == pytest.approx(y.grad_norm, rel=tol, abs=tol)
        assert x.param_grad_norms.keys() == y.param_grad_norms.keys()
        for name in x.param_grad_norms:
            assert x.param_grad_norms[name] == pytest.approx(y.param_grad_norms[name], rel=1e-4, abs=tol), name
        assert x.clipped_fraction == y.clipped_fraction and x.loss_ema == pytest.approx(y.loss_ema, rel=tol)
        assert (x.grad_flow is None) == (y.grad_flow is None)
        if x.grad_flow is not None:
            torch.testing.assert_close(torch.tensor(x.grad_flow_layers), torch.tensor(y.grad_flow_layers),
                                       rtol=1e-4, atol=tol)
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters()):
        torch.testing.assert_close(p, q, rtol=tol, atol=tol, msg=name)
    for p, q in zip(a.params, b.params):
        assert a.optimizer.state[p].keys() == b.optimizer.state[q].keys()
        for key, value in b.optimizer.state[q].items():
            torch.testing.assert_close(a.optimizer.state[p][key], value, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("cell", ["vanilla", "relu", "gru", "lstm"])
@pytest.mark.parametrize("layers, optimizer, bptt", [(1, "adam", "full"), (2, "sgd", "truncated"),
                                                     (2, "adam", "truncated")])
def test_the_fused_step_equals_the_autograd_step(cell, layers, optimizer, bptt):
    _assert_same_run(*_pair(_config(cell, layers, optimizer, 1.0 if optimizer == "adam" else 0.5, bptt)))


def test_clipping_off_and_a_schedule():
    _assert_same_run(*_pair(_config("gru", 2, "sgd", clip=0.0, schedule="cosine")))


def test_parameters_grads_and_adam_state_stay_the_tensors_everyone_reads():
    """Views into the flat buffers: state_dict, .grad and the optimizer state see every update."""
    trainer = Trainer(_config("lstm", 2, steps=3))
    list(trainer.reports())
    flat = trainer.fused.flat
    for p in trainer.params:
        assert p.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr()
        assert p.grad.untyped_storage().data_ptr() == trainer.fused.grad.untyped_storage().data_ptr()
        assert float(trainer.optimizer.state[p]["step"]) == 3
    before = trainer.snapshot()["readout.weight"].clone()
    trainer.config = dataclasses.replace(trainer.config, train=dataclasses.replace(trainer.config.train, steps=4))
    trainer.total_steps = 4
    list(trainer.reports())
    assert not torch.equal(trainer.snapshot()["readout.weight"], before)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_resumed_run_continues_exactly(optimizer, tmp_path):
    """The loaded optimizer state replaces the tensors the flat buffers backed: they are re-bound."""
    config = _config("gru", 2, optimizer, steps=10, bptt="truncated")
    whole = Trainer(config)
    full = [r for r in whole.reports() if r.full]
    half = Trainer(dataclasses.replace(config, train=dataclasses.replace(config.train, steps=6)))
    list(half.reports())
    half.checkpoint(tmp_path / "c.safetensors")
    resumed = Trainer.resume(tmp_path / "c.safetensors", steps=10)
    rest = [r for r in resumed.reports() if r.full]
    assert [r.step for r in rest] == [7, 8, 9, 10]
    for a, b in zip(full[-4:], rest):
        assert a.loss == pytest.approx(b.loss, rel=1e-6) and a.grad_norm == pytest.approx(b.grad_norm, rel=1e-6)
    for p, q in zip(whole.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_a_non_finite_step_updates_nothing_and_names_the_tensor():
    config = _config("vanilla", optimizer="sgd", clip=0.0, steps=20)
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, lr=1e8))
    trainer = Trainer(config)
    reports = list(trainer.reports())
    bad = reports[-1]
    assert bad.status == "nonfinite" and "(first non-finite tensor)" in bad.message, bad.message
    assert all(torch.isfinite(p).all() for p in trainer.params)  # the bad step changed no weight


def test_snapshots_from_another_thread_while_the_fused_step_trains():
    trainer = Trainer(_config("gru", 2, steps=300))
    shots, done = [], threading.Event()

    def watch():
        while not done.is_set():
            shots.append(trainer.snapshot())

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        last = list(trainer.reports())[-1]
    finally:
        done.set()
        thread.join()
    assert last.status == "finished" and shots
    assert all(torch.isfinite(v).all() for shot in shots for v in shot.values())


@pytest.mark.parametrize("change, why", [
    ({"train": {"optimizer": "sgd", "momentum": 0.9}}, "momentum"),
    ({"train": {"optimizer": "rmsprop"}}, "Adam or SGD"),
    ({"task": {"name": "copy", "copy_length": 2, "copy_delay": 3, "heldout_size": 4}}, "MSE"),
])
def test_what_the_fused_step_cannot_run_goes_through_autograd(change, why):
    data = _config("gru").to_dict()
    for section, values in change.items():
        data[section] = values if section == "task" else {**data[section], **values}
    trainer = Trainer(ExperimentConfig.from_dict(data))
    assert trainer.backend == "numba" and trainer.fused is None
    from explorer.core.lab.fast.step import why_not

    assert why in why_not(trainer.model, trainer.optimizer, trainer.device, trainer.backend)
    assert list(trainer.reports())[-1].status == "finished"
