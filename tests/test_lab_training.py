"""The training generator: learning, reproducibility, reports, controls, non-finite stops, truncation."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.control import TrainControl
from explorer.core.lab.training import Trainer, train


def small(task=None, model=None, **train_fields):
    base = dict(steps=20, batch_size=4, report_every=1, flow_every=5, probe_every=5, eval_every=10, lr=1e-2)
    return ExperimentConfig(task=TaskConfig(**(task or {"max_len": 12})),
                            model=ModelConfig(**({"cell": "gru", "hidden_size": 8} | (model or {}))),
                            train=TrainConfig(**(base | train_fields)))


ECHO = {"name": "echo", "stream_length": 2_000}
ECHO_TRAIN = dict(optimizer="adagrad", lr=0.1, batch_size=10, steps=0, epochs=2, bptt="truncated", num_steps=5,
                  clip_norm=0.0)


def test_a_short_run_lowers_the_held_out_loss():
    trainer = Trainer(small(steps=150, lr=2e-2, batch_size=16, report_every=50, eval_every=0))
    before = trainer.evaluate()
    reports = list(trainer.reports())
    assert reports[-1].done and reports[-1].status == "finished"
    assert reports[-1].heldout_loss < 0.5 * before


def test_same_seed_same_reports_and_another_seed_differs():
    def losses(config):
        return [(r.step, r.loss, r.grad_norm) for r in train(config) if r.full]

    config = small(model={"cell": "vanilla"})
    assert losses(config) == losses(config)
    other = dataclasses.replace(config, train=dataclasses.replace(config.train, seed=1))
    assert losses(other) != losses(config)


def test_one_yield_per_step_and_metrics_only_on_reporting_steps():
    reports = list(train(small(steps=12, report_every=4, flow_every=6, probe_every=0, eval_every=0)))
    assert [r.step for r in reports] == list(range(1, 13))
    assert [r.step for r in reports if r.full] == [4, 6, 8, 12]
    quiet = reports[0]
    assert quiet.loss is None and quiet.grad_flow is None and quiet.total_steps == 12 and not quiet.done
    full = reports[3]
    assert isinstance(full.loss, float) and isinstance(full.loss_ema, float) and full.steps_per_s > 0
    assert set(full.param_grad_norms) == {n for n, _ in Trainer(small()).model.named_parameters()}
    assert reports[5].grad_flow.shape == (12,) and np.all(np.isfinite(reports[5].grad_flow))
    assert reports[5].grad_flow_layers.shape == (1, 12)
    last = reports[-1]
    assert last.done and last.heldout_loss is not None and last.probe is not None
    p = last.probe
    assert p.inputs.shape == (12, 1) and p.predictions.shape == p.targets.shape == (12, 1)
    assert p.states.shape == (12, 8) and p.mask.shape == (12,) and p.layer_states.shape == (1, 12, 8)
    for r in reports:  # plain data only: nothing here may hold a tensor
        assert not any(isinstance(v, torch.Tensor) for v in dataclasses.asdict(r).values())


def test_loss_ema_follows_the_losses():
    reports = [r for r in train(small(steps=15)) if r.full]
    ema = reports[0].loss
    for r in reports[1:]:
        ema = 0.99 * ema + 0.01 * r.loss
        assert r.loss_ema == pytest.approx(ema, rel=1e-5)


def test_the_fused_backend_reports_no_gradient_flow_the_scan_backend_does():
    assert all(r.grad_flow is None for r in train(small(model={"backend": "fused"}, steps=5)))
    flows = [r.grad_flow for r in train(small(model={"backend": "scan"}, steps=5)) if r.grad_flow is not None]
    assert len(flows) == 1


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_resumed_run_continues_exactly_like_an_uninterrupted_one(tmp_path, suffix):
    config = small(steps=16, model={"cell": "lstm"}, optimizer="adam", clip_norm=0.5)
    straight = [(r.step, r.loss, r.loss_ema, r.clipped_fraction) for r in train(config) if r.full]
    first = Trainer(config)
    for r in first.reports():
        if r.step == 7:
            break
    first.checkpoint(tmp_path / f"ckpt{suffix}")
    resumed = Trainer.resume(tmp_path / f"ckpt{suffix}")
    assert resumed.step == 7
    rest = [(r.step, r.loss, r.loss_ema, r.clipped_fraction) for r in resumed.reports() if r.full]
    assert rest == straight[7:]


def test_resume_carries_the_truncated_state_and_the_epoch(tmp_path):
    config = small(task=ECHO, model={"cell": "vanilla", "hidden_size": 4}, **ECHO_TRAIN)
    straight = [(r.step, r.epoch, r.loss) for r in train(config) if r.full]
    trainer = Trainer(config)
    it = trainer.reports()
    for _ in range(30):  # mid-epoch: 40 windows per epoch
        next(it)
    assert trainer.carry is not None
    trainer.checkpoint(tmp_path / "echo.safetensors")
    rest = [(r.step, r.epoch, r.loss) for r in Trainer.resume(tmp_path / "echo.safetensors").reports() if r.full]
    assert rest == straight[30:] and rest[-1][1] == 1


def test_resume_can_extend_a_finished_run(tmp_path):
    trainer = Trainer(small(steps=5))
    list(trainer.reports())
    trainer.checkpoint(tmp_path / "c.safetensors")
    more = Trainer.resume(tmp_path / "c.safetensors", steps=8)
    assert [r.step for r in more.reports()] == [6, 7, 8]


def test_truncated_windows_carry_the_final_state_without_a_graph():
    config = small(task=ECHO, model={"cell": "vanilla", "hidden_size": 4, "backend": "scan"}, **ECHO_TRAIN)
    trainer = Trainer(config)
    calls, forward = [], trainer.model.forward

    def spy(x, state=None, **kw):
        out = forward(x, state, **kw)
        if torch.is_grad_enabled():
            calls.append((state, tuple(s.detach().clone() for s in out.final)))
        return out

    trainer.model.forward = spy
    it = trainer.reports()
    for _ in range(3):
        next(it)
    assert calls[0][0] is None  # the epoch starts from zeros
    for (_, previous_final), (state, _) in zip(calls, calls[1:]):
        assert all(torch.equal(s, p) for s, p in zip(state, previous_final))  # carried as is
        assert all(s.grad_fn is None and not s.requires_grad for s in state)  # no backprop across windows
    full = Trainer(dataclasses.replace(config, train=dataclasses.replace(config.train, bptt="full")))
    assert full.carry is None and all(not b.carry for _, b in zip(range(5), full.task.stream(full.config.train)))


def test_truncation_changes_the_gradient_flow_horizon():
    cumsum = small(task={"max_len": 12, "min_len": 12}, model={"cell": "vanilla", "backend": "scan"}, steps=3,
                   flow_every=1)
    full = [r.grad_flow for r in train(cumsum) if r.grad_flow is not None]
    short = dataclasses.replace(cumsum, train=dataclasses.replace(cumsum.train, bptt="truncated", num_steps=4))
    windows = [r.grad_flow for r in train(short) if r.grad_flow is not None]
    assert full[0].shape == (12,) and windows[0].shape == (4,)


def test_clipping_statistics():
    reports = [r for r in train(small(steps=30, clip_norm=0.3)) if r.full]
    over = 0
    for r in reports:
        over += r.grad_norm > 0.3
        assert r.grad_norm_clipped == pytest.approx(min(r.grad_norm, 0.3), rel=1e-6)
        assert r.clipped_fraction == pytest.approx(over / r.step)
        assert r.clip_norm == 0.3
    assert 0 < reports[-1].clipped_fraction <= 1
    off = [r for r in train(small(steps=5, clip_norm=0.0)) if r.full]
    assert all(r.clip_norm is None and r.grad_norm_clipped == r.grad_norm and r.clipped_fraction == 0 for r in off)


def test_lr_and_clip_changed_mid_run_take_effect_on_the_next_step():
    control = TrainControl()
    config = small(steps=10, optimizer="sgd", lr=1e-3, clip_norm=0.0, report_every=100, flow_every=0,
                   probe_every=0, eval_every=0)
    trainer = Trainer(config, control)
    it = trainer.reports()
    next(it), next(it)
    weights = trainer.model.readout.bias.detach().clone()
    control.set_lr(0.5)
    control.set_clip(1e-3)
    control.request_report()
    r = next(it)
    assert r.full and r.step == 3 and r.lr == 0.5 and r.clip_norm == 1e-3
    assert r.grad_norm_clipped == pytest.approx(1e-3, rel=1e-4) and r.grad_norm > 1e-3
    step = (trainer.model.readout.bias.detach() - weights).norm().item()
    assert 0 < step <= 0.5 * 1e-3 * 1.0001  # SGD moved by lr * clipped gradient at most
    control.set_lr(None)  # back to the schedule
    control.set_clip(None)
    control.request_report()
    r = next(it)
    assert r.lr == 1e-3 and r.clip_norm is None and r.grad_norm_clipped == r.grad_norm
    assert not next(it).full  # the request is used up


def test_stop_request_ends_with_a_final_full_report():
    control = TrainControl()
    it = train(small(steps=100, report_every=50), control)
    next(it), next(it)
    control.request_stop()
    rest = list(it)
    assert len(rest) == 1
    final = rest[0]
    assert final.full and final.done and final.status == "stopped" and final.step == 2
    assert final.heldout_loss is not None and final.probe is not None


def test_a_huge_learning_rate_stops_the_run_naming_the_step_and_tensor():
    config = small(model={"cell": "relu", "hidden_size": 16, "init_scale": 0.5}, optimizer="sgd", lr=1e6,
                   clip_norm=0.0, steps=50, report_every=100, flow_every=0, probe_every=0, eval_every=0)
    reports = list(train(config))
    last = reports[-1]
    assert last.status == "nonfinite" and last.done and last.full
    assert last.step < 50 and len(reports) == last.step  # stopped at once
    assert last.message.startswith(f"step {last.step}: ")
    assert "(first non-finite tensor)" in last.message and "lower train.lr" in last.message
    assert any(word in last.message for word in ("hidden state", "outputs", "loss", "gradient of"))


def test_an_injected_inf_is_named():
    trainer = Trainer(small(steps=5))
    with torch.no_grad():
        trainer.model.rnn.weight_hh_l0[0, 0] = math.inf
    last = list(trainer.reports())[-1]
    assert last.status == "nonfinite" and last.step == 1
    assert "step 1: parameter rnn.weight_hh_l0 became inf" in last.message


def test_inf_in_the_inputs_is_named_with_the_time_step_of_the_state():
    trainer = Trainer(small(steps=5, model={"cell": "vanilla"}))
    stream = trainer.task.stream

    def poisoned(train, start=0):
        for k, batch in enumerate(stream(train, start)):
            if k == 2:
                batch.inputs = batch.inputs.copy()
                batch.inputs[3, 0, 0] = np.inf
            yield batch

    trainer.task.stream = poisoned
    last = list(trainer.reports())[-1]
    assert last.status == "nonfinite" and last.step == 3 and "the inputs became inf" in last.message


def test_snapshot_and_predict_do_not_disturb_training():
    from explorer.core.lab.probe import predict

    config = small(steps=10)
    plain = [r.loss for r in train(config) if r.full]
    trainer = Trainer(config)
    seen = []
    for r in trainer.reports():
        seen.append(r.loss)
        out = predict(trainer, np.ones((5, 1), np.float32))
        assert out["predictions"].shape == (5, 1)
    assert seen == plain
