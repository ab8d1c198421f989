"""Training as a generator: ``train(config, control) -> Iterator[StepReport]``.

The generator yields after every optimisation step, so a caller can stop, pause (by not
calling ``next``), step once, or draw between any two steps. Metrics that need a device
sync (``.item()``, ``.cpu()``) are gathered on reporting steps only; the other yields cost
a few microseconds. Logging, plotting and checkpointing sit on the consumer side.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..errors import ConfigError
from .checkpoint_check import check_meta, check_tensors
from .config import ExperimentConfig
from .control import TrainControl
from .device import resolve_device, set_threads
from .diagnostics import clip_, divergence_message, first_nonfinite, grad_flow, grad_norms, nonfinite_message
from .losses import DISPLAY, LOSSES
from .models import build_model, detach_state, resolve_backend
from .optim import SCHEDULES, fast_step, make_optimizer
from .persistence import load_checkpoint, save_checkpoint
from .inside import InsideMeter
from .reports import DIVERGED, FINISHED, NONFINITE, STOPPED, Probe, StepReport, as_numpy
from .tasks import make_task

EMA_DECAY = 0.99  # source 000: tf.train.ExponentialMovingAverage(decay=0.99)


class Trainer:
    """Owns the task, model, optimizer and the running state of one experiment."""

    def __init__(self, config: ExperimentConfig, control: TrainControl | None = None):
        problems = config.validate()
        if problems:
            raise ConfigError(problems)
        self.config, self.control = config, control or TrainControl()
        tr = config.train
        self.notes = [note for note in (set_threads(tr.threads),) if note]  # said in the closing report
        self.device = resolve_device(tr.device)
        self.task = make_task(config.task)
        self.model = build_model(config.model, self.task.input_size, self.task.output_size, self.task.loss,
                                 seed=tr.seed).to(self.device)
        if self.device.type == "cuda" and not self.model.custom:
            self.model.rnn.flatten_parameters()  # one weight buffer for cuDNN
        self.backend = resolve_backend(config.model, self.device, tr.batch_size)  # ordinary steps
        self.measures_flow = config.model.backend in ("auto", "scan", "numba")
        # flow steps: numba's backward measures dL/dh_t itself; the other backends switch to scan
        self.flow_backend = "numba" if self.backend == "numba" else "scan"
        self.names = [name for name, _ in self.model.named_parameters()]
        self.params = list(self.model.parameters())
        self.optimizer = make_optimizer(self.params, tr)
        self._optimizer_step = fast_step(self.optimizer)  # the same update, fewer wrappers
        self.fused = None  # numba on a CPU: the whole step without autograd (fast.step)
        if self.backend == "numba":
            from .fast.step import FusedStep, why_not

            if not why_not(self.model, self.optimizer, self.device, self.backend):
                self.fused = FusedStep(self.model, self.optimizer)
        self.loss_fn, self.schedule = LOSSES[self.task.loss], SCHEDULES[tr.schedule]
        self.total_steps = self.task.total_steps(tr)
        self.step, self.epoch, self.elapsed_s = 0, 0, 0.0
        self.carry = None  # truncated BPTT: the last window's final state, detached
        self.lr_override: float | None = None  # TrainControl.set_lr
        self.clip: float | None = tr.clip_norm or None  # current threshold (TrainControl.set_clip)
        self._ema = torch.zeros((), device=self.device)  # () loss EMA, kept on the device
        self._n_clipped = torch.zeros((), device=self.device)  # () steps clipped so far
        self._bad_step = torch.full((), -1, device=self.device)  # () first non-finite step (GPU check)
        self._check_each_step = self.device.type == "cpu"  # .item() is free on a CPU, a sync on a GPU
        self._lock = threading.Lock()  # snapshot() vs. the weight update
        self._heldout = self._probe = None
        self._inside = None  # InsideMeter, made on the first probe
        self._first_loss: torch.Tensor | None = None  # () this run's first training loss (divergence check)

    # -- the loop ----------------------------------------------------------------------------
    def reports(self) -> Iterator[StepReport]:
        tr, total, control = self.config.train, self.total_steps, self.control
        every = (tr.report_every, tr.flow_every if self.measures_flow else 0, tr.probe_every, tr.eval_every)
        stream = self.task.stream(tr, start=self.step)
        seen, status, lr_set, ran = -1, FINISHED, None, False
        mark = (self.step, self.elapsed_s)  # steps/s since the last full report
        clock = time.perf_counter()
        while self.step < total:
            # read the controls (one compare when nothing changed)
            force = False
            if control.version != seen:
                seen = control.version
                self.lr_override, clip_set, clip, force, stop = control.take()
                self.clip = clip if clip_set else self.clip
                if stop:
                    status = STOPPED
                    break
            batch = next(stream)
            step = self.step + 1
            last = step == total
            flow = bool(every[1]) and (step % every[1] == 0 or last)
            full = force or last or any(e and not step % e for e in every)

            # set lr: the schedule's, unless the control overrides it
            lr = self.lr_override or self.schedule(tr, step - 1, total)
            if lr != lr_set:
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                lr_set = lr

            # forward: the scan path on flow steps (every h_t retains its gradient)
            x = torch.from_numpy(batch.inputs).to(self.device, non_blocking=True)  # (T, B, I)
            y = torch.from_numpy(batch.targets).to(self.device, non_blocking=True)  # (T, B, O) or (T, B)
            m = torch.from_numpy(batch.mask).to(self.device, non_blocking=True)  # (T, B)
            state = self.carry if batch.carry else None
            backend = self.flow_backend if flow else self.backend
            if self.fused is not None:  # numba: flow steps too (its backward measures dL/dh_t)
                with self._lock:  # snapshot() never sees half-updated weights
                    r = self.fused.step(x, y, m, state, lr, self.clip, flow)
                if not r.ok:
                    yield self._nonfinite_report(step, batch.epoch, x, state, torch.tensor(r.loss), lr)
                    return
                loss, norm, norms, final, watched = r.loss, r.norm, r.norms, r.final, r.flows
                if r.clipped:
                    self._n_clipped += 1
            else:
                loss, norm, norms, final, watched = yield from self._autograd_step(step, batch, x, y, m, state,
                                                                                     backend, flow, full, lr)
                if loss is None:
                    return

            # bookkeeping: carried state, loss EMA, counters
            self.carry = detach_state(final) if tr.bptt == "truncated" else None
            self._track(loss)
            self.step, self.epoch = step, batch.epoch

            # report: full ones sync; the others are three ints
            now = time.perf_counter()
            self.elapsed_s += now - clock
            if full:
                report = self._full_report(loss, norm, norms, lr, mark, flow and watched, last)
                mark = (self.step, self.elapsed_s)
                self.elapsed_s += time.perf_counter() - now  # evaluation and probing count too
            else:
                report = StepReport(step, batch.epoch, total)
            ran = True
            yield report
            clock = time.perf_counter()  # time the caller holds a report (drawing, pausing) does not count
        if status == STOPPED or not ran:  # a finished run's last step already said done
            yield self._final_report(status)

    def _track(self, loss) -> None:
        """The run's first loss (the divergence check) and the loss EMA, on the device;
        ``loss`` a () tensor, or a float from the fused step."""
        value = loss.detach() if isinstance(loss, torch.Tensor) else loss
        if self._first_loss is None:
            self._first_loss = value.clone() if isinstance(value, torch.Tensor) else torch.tensor(value)
        if self.step == 0:
            self._ema.fill_(value)
        else:
            self._ema.mul_(EMA_DECAY).add_(value, alpha=1 - EMA_DECAY)

    def _autograd_step(self, step, batch, x, y, m, state, backend, flow, full, lr):
        """Forward, backward, norms, the non-finite check, clipping and the update through torch's
        autograd and optimizer (every backend; numba's too when the fused step does not apply).
        -> (loss, norm, norms, final state, watched); a non-finite step yields its report and
        returns loss None."""
        fuse = self.model.fuses_loss(backend)  # numba + MSE: readout and loss as one node
        out = self.model(x, state, backend=backend, watch=flow, readout=not fuse)  # outputs (T, B, O)

        # loss and backward
        loss = self.model.loss(out, y, m)  # ()
        for p in self.params:  # zero_grad(set_to_none=True), without its wrappers
            p.grad = None
        loss.backward()

        # gradient norms, non-finite check, clipping
        grads = [p.grad for p in self.params]  # P tensors, each shaped like its parameter
        norms, norm = grad_norms(grads, None if self._check_each_step else torch.float64)  # P x (), ()
        if self._check_each_step:
            nonfinite = not np.isfinite(loss.item() + norm.item())  # CPU: no real sync
            if nonfinite and np.isfinite(loss.item()):  # float32 norms overflow on finite grads > 1.8e19
                norms, norm = grad_norms(grads, torch.float64)
                nonfinite = not np.isfinite(norm.item())
        else:  # GPU: remember the first bad step on the device; look at it on reporting steps
            bad = ~torch.isfinite(loss.detach() + norm)  # ()
            self._bad_step = torch.where(bad & (self._bad_step < 0), step, self._bad_step)
            nonfinite = full and int(self._bad_step.item()) >= 0
        if nonfinite:
            yield self._nonfinite_report(step, batch.epoch, x, state, loss, lr)
            return None, None, None, None, None
        if self.clip:
            self._n_clipped += clip_(grads, norm, self.clip)

        # update (under the lock, so snapshot() never sees half-updated weights)
        with self._lock:
            self._optimizer_step()
        return loss.detach(), norm, norms, out.final, out.watched

    # -- reports -------------------------------------------------------------------------------
    def _full_report(self, loss, norm, norms, lr, mark, watched, last) -> StepReport:
        tr, step = self.config.train, self.step
        grad_norm = float(norm)  # the reporting step's sync
        flows = grad_flow(watched) if watched else None  # (L, T)
        report = StepReport(
            step, self.epoch, self.total_steps, True,
            loss=float(loss), loss_ema=self._ema.item(), lr=lr,
            grad_norm=grad_norm, grad_norm_clipped=min(grad_norm, self.clip) if self.clip else grad_norm,
            clip_norm=self.clip, clipped_fraction=self._n_clipped.item() / step,
            param_grad_norms=dict(zip(self.names, (float(n) for n in norms))),
            steps_per_s=(step - mark[0]) / max(self.elapsed_s - mark[1], 1e-9), elapsed_s=self.elapsed_s,
            grad_flow=None if flows is None else flows[-1], grad_flow_layers=flows,
            done=last, status=FINISHED if last else "running", message="finished" if last else "")
        if last or (tr.eval_every and step % tr.eval_every == 0):
            report.heldout_loss = self.evaluate()
        if last or (tr.probe_every and step % tr.probe_every == 0):
            report.probe = self.probe()
        if last:
            self._close(report)
        return report

    def _close(self, report: StepReport) -> None:
        """The closing report of a run that reached its last step: flag a finite divergence,
        and say the notes (e.g. threads capped)."""
        first = None if self._first_loss is None else float(self._first_loss)
        diverged = divergence_message(report.heldout_loss, first, self.task.reference_lines(), report.lr, self.clip)
        if diverged:
            report.status, report.message = DIVERGED, diverged
        report.message = "; ".join([report.message, *self.notes])

    def _final_report(self, status: str) -> StepReport:
        """After the last step (already reported) or on a stop: a closing full report."""
        report = StepReport(self.step, self.epoch, self.total_steps, True, lr=self.lr_override,
                            clip_norm=self.clip, loss_ema=self._ema.item() if self.step else None,
                            clipped_fraction=self._n_clipped.item() / max(self.step, 1),
                            elapsed_s=self.elapsed_s, done=True, status=status,
                            message="; ".join(["stopped on request" if status == STOPPED else "finished",
                                               *self.notes]))
        if status == STOPPED:
            report.heldout_loss, report.probe = self.evaluate(), self.probe()
        return report

    def _nonfinite_report(self, step, epoch, x, state, loss, lr) -> StepReport:
        bad = int(self._bad_step.item())
        found = first_nonfinite(self.model, x, state, loss)
        message = nonfinite_message(step if bad < 0 else bad, found, lr, self.clip)
        if bad >= 0 and bad != step:
            message += f" (found on reporting step {step}: on a GPU the check runs on reporting steps)"
        return StepReport(step, epoch, self.total_steps, True, loss=loss.item(), lr=lr, clip_norm=self.clip,
                          elapsed_s=self.elapsed_s, done=True, status=NONFINITE, message=message)

    # -- evaluation and probing --------------------------------------------------------------
    def evaluate(self) -> float:
        """Loss on the fixed held-out set (no gradients, the fast backend), in batches of similar
        length (:func:`length_buckets`): the same number, without computing the padding."""
        if self._heldout is None:
            self._heldout = [(tuple(torch.from_numpy(np.ascontiguousarray(a)).to(self.device) for a in bucket), n)
                             for *bucket, n in length_buckets(*self.task.heldout())]
        total, count = 0.0, sum(n for _, n in self._heldout)
        with torch.no_grad():
            for (x, y, m), n in self._heldout:  # (T, N, I), targets, (T, N); n sequences with a valid step
                backend = self.backend
                if backend in ("manual", "numba"):  # a big batch: what auto picks for its size
                    backend = resolve_backend(dataclasses.replace(self.config.model, backend="auto"), self.device,
                                              x.shape[1])
                if n:
                    total = total + self.loss_fn(self.model(x, backend=backend).outputs, y, m) * (n / count)
        return float(total)

    def probe(self) -> Probe:
        """The model on the fixed probe sequence, every layer's states included (scan or numba path)."""
        if self._probe is None:
            self._probe = [torch.from_numpy(a).to(self.device) for a in self.task.probe()]
        x, y, m = self._probe  # (T, 1, I), targets, (T, 1)
        with torch.no_grad():
            out = self.model(x, backend=self.flow_backend)  # both give layer_states
        shown = DISPLAY[self.task.loss](out.outputs)[:, 0]  # (T, O)
        targets = y[:, 0] if y.dim() == 3 else torch.nn.functional.one_hot(y[:, 0], self.task.output_size)
        probe = Probe(as_numpy(x[:, 0]), as_numpy(targets.float()), as_numpy(shown), as_numpy(out.states[:, 0]),
                      as_numpy(m[:, 0]), as_numpy(torch.stack(out.layer_states)[:, :, 0]))
        probe.inside = self._look_inside(probe)
        return probe

    def _look_inside(self, probe: Probe):
        """Units, gates, PCA and (throttled) eigenvalues of the top layer on the probe, as numpy."""
        m = self.config.model
        if self._inside is None:
            expressions = () if not self.model.custom else \
                (*m.custom.expressions, *(v.expression for v in m.custom.variables))
            self._inside = InsideMeter(m.cell, expressions=expressions)
        if self.model.custom:
            params = self.model.rnn.layers[-1].named_parameters()
        else:
            params = self.model.rnn.named_parameters(prefix="")
        with torch.no_grad():
            weights = {name: as_numpy(w) for name, w in params}
        return self._inside.measure(weights, probe.inputs, probe.layer_states)

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A CPU copy of the weights, safe to take from another thread while training runs."""
        with self._lock:
            return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoint(self, path) -> None:
        """Everything a resumed run needs to continue exactly: weights, optimizer state, EMA,
        counters, the carried state, the control overrides."""
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        optim_scalars: dict = {}
        for i, per_param in self.optimizer.state_dict()["state"].items():
            for key, value in per_param.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim.{i}.{key}"] = value
                else:
                    optim_scalars[f"{i}.{key}"] = value
        tensors["trainer.ema"], tensors["trainer.n_clipped"] = self._ema, self._n_clipped
        for k, s in enumerate(self.carry or ()):
            for j, part in enumerate(s if isinstance(s, tuple) else (s,)):
                tensors[f"carry.{k}.{j}"] = part
        meta = {"config": self.config.to_dict(), "step": self.step, "epoch": self.epoch,
                "elapsed_s": self.elapsed_s, "lr_override": self.lr_override, "clip": self.clip,
                "optim_scalars": optim_scalars}
        save_checkpoint(path, tensors, meta)

    @classmethod
    def resume(cls, path, control: TrainControl | None = None, **train_changes) -> "Trainer":
        """A trainer continuing from a checkpoint; ``train_changes`` edit its TrainConfig
        (e.g. ``steps=``, ``device=``), so a run can be extended."""
        tensors, meta = load_checkpoint(path)
        check_meta(Path(path), meta)  # every field's type and range, before anything is built
        config = meta["config"]
        if train_changes:
            config = dataclasses.replace(config, train=dataclasses.replace(config.train, **train_changes))
        trainer = cls(config, control)
        check_tensors(Path(path), tensors, meta, trainer)  # names, shapes, dtypes: before anything is loaded
        trainer._load_state(tensors, meta)
        return trainer

    def _load_state(self, tensors: dict, meta: dict) -> None:
        model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
        self.model.load_state_dict(model_state)
        state: dict = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, i, name = key.split(".", 2)
                state.setdefault(int(i), {})[name] = value
        for key, value in meta["optim_scalars"].items():
            i, name = key.split(".", 1)
            state.setdefault(int(i), {})[name] = value
        self.optimizer.load_state_dict({"state": state, "param_groups": self.optimizer.state_dict()["param_groups"]})
        self._ema.copy_(tensors["trainer.ema"])
        self._n_clipped.copy_(tensors["trainer.n_clipped"])
        layers = sorted({int(k.split(".")[1]) for k in tensors if k.startswith("carry.")})
        if layers:
            parts = [[tensors[f"carry.{k}.{j}"].to(self.device) for j in range(2) if f"carry.{k}.{j}" in tensors]
                     for k in layers]
            self.carry = tuple(tuple(p) if len(p) == 2 else p[0] for p in parts)
        self.step, self.epoch, self.elapsed_s = meta["step"], meta["epoch"], meta["elapsed_s"]
        self.lr_override, self.clip = meta["lr_override"], meta["clip"]
        if self.lr_override is not None:
            self.control.set_lr(self.lr_override)
        self.control.set_clip(self.clip)


def length_buckets(x: np.ndarray, y: np.ndarray, m: np.ndarray, size: int = 64) -> list[tuple]:
    """A padded set (x (T, N, I), targets (T, N, ...), mask (T, N)) as batches of about ``size``
    sequences of similar length, each cut after its last valid step, with the count of sequences
    that have one -> [(x, y, m, n)]. The loss of the set is the n-weighted mean of the batches'
    losses (each the mean over its sequences): a step's output depends only on the steps before
    it, and masked steps never count. One batch when cutting would save less than 10%."""
    T, N = m.shape
    valid = m != 0
    last = np.where(valid.any(0), T - np.argmax(valid[::-1], 0), 0)  # (N,) steps up to the last valid one
    order = np.argsort(last, kind="stable")
    chunks = [order[i:i + size] for i in range(0, N, size)]
    if sum(int(last[c].max()) * len(c) for c in chunks) > 0.9 * T * N:
        return [(x, y, m, int(valid.any(0).sum()))]
    out = []
    for c in chunks:
        steps = max(int(last[c].max()), 1)
        out.append((x[:steps, c], y[:steps, c], m[:steps, c], int(valid[:, c].any(0).sum())))
    return out


def train(config: ExperimentConfig, control: TrainControl | None = None) -> Iterator[StepReport]:
    """``Trainer(config, control).reports()``: one report per optimisation step."""
    return Trainer(config, control).reports()
