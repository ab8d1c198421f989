"""One training session: the state machine behind Play / Pause / Step / Reset / Stop.

States: ``idle`` (nothing built yet, or reset), ``running``, ``paused``, ``done`` (the run
ended: finished, stopped, non-finite or failed; its curves stay until Reset or the next
Play). The session owns the runner and the :class:`RunData`; it touches no widget, and
the window redraws from the data on its own timer.
"""

from __future__ import annotations

import gc
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from explorer.core.errors import ConfigError
from explorer.core.lab.control import TrainControl

from .run_data import RunData
from .runner import TrainingRunner

IDLE, RUNNING, PAUSED, DONE = "idle", "running", "paused", "done"


def _make_trainer(config):
    def make(control):
        from explorer.core.lab.training import Trainer  # torch is imported on the worker

        return Trainer(config, control)

    return make


def _resume_trainer(path, steps):
    def make(control):
        from explorer.core.lab.training import Trainer

        return Trainer.resume(path, control, **({"steps": steps} if steps else {}))

    return make


class TrainingSession(QObject):
    state_changed = Signal(str)
    message = Signal(str)  # a line for the log
    alert = Signal(str, str)  # title, text: something the user must see (a dialog)
    ready = Signal(dict)  # facts about the run: device, parameters, reference lines, total steps

    def __init__(self, make_trainer: Callable = _make_trainer, parent: QObject | None = None):
        super().__init__(parent)
        self._make_trainer = make_trainer
        self.data = RunData()
        self.runner: TrainingRunner | None = None
        self.control: TrainControl | None = None
        self.config = None
        self.state = IDLE
        self.final = None  # the last report of the last run
        self.recorder_factory: Callable | None = None  # (resume_from) -> a RunRecorder: the window records runs
        self.resuming: str | None = None  # the checkpoint a resume is loading (until ready)
        self._before = None  # (state, config, final) before that resume began
        self.last_trace = ""  # the last failure's traceback (shown only on request)

    # -- the buttons -----------------------------------------------------------------------------
    def play(self, config) -> None:
        """Start a run of ``config``, or resume a paused one. A second Play while running
        does nothing."""
        if self.state == RUNNING:
            return
        if self.state == PAUSED:
            self.runner.resume()
            self._set(RUNNING)
            return
        self._start(config, paused=False)

    def pause(self) -> None:
        if self.state == RUNNING:
            self.runner.pause()
            self._set(PAUSED)

    def step(self, config) -> None:
        """One optimisation step: from idle/done it starts a new run paused after one step."""
        if self.state == RUNNING:
            self.pause()
        if self.state in (IDLE, DONE):
            self._start(config, paused=True)
        self.runner.step_once()
        self._set(PAUSED)

    def resume(self, path, steps: int | None = None) -> None:
        """Continue the run saved in checkpoint ``path``: to the checkpoint's own step count,
        or to ``steps`` in all if given. The current curves stay until the checkpoint has
        loaded; a checkpoint that cannot load leaves them (and the state) as they were."""
        self._start(None, paused=False, make=_resume_trainer(path, steps), resuming=str(path))

    def stop(self) -> None:
        """End the run after the current step; its curves stay."""
        if self.state in (RUNNING, PAUSED):
            self.runner.stop()

    def reset(self) -> None:
        """Stop any run, wait for its thread, and clear every curve."""
        self.shutdown(timeout_ms=5000)
        self.data.clear()
        self.final = None
        self._set(IDLE)

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop and join the worker; True when no thread is left."""
        runner = self.runner
        if runner is None:
            return True
        runner.stop()
        joined = runner.wait(timeout_ms)
        if joined:
            self.runner = None
        return joined

    # -- live changes -------------------------------------------------------------------------
    def set_lr(self, value: float) -> None:
        if self.control is not None and self.state in (RUNNING, PAUSED):
            try:
                self.control.set_lr(value)  # checked as train.lr is everywhere
            except ConfigError as exc:
                self.message.emit(f"learning rate not changed: {exc}")
                return
            self.message.emit(f"learning rate set to {value:g} from the next step")

    def set_clip(self, value: float) -> None:
        if self.control is not None and self.state in (RUNNING, PAUSED):
            try:
                self.control.set_clip(value or None)  # checked as train.clip_norm is everywhere
            except ConfigError as exc:
                self.message.emit(f"gradient clipping not changed: {exc}")
                return
            self.message.emit(f"gradient clipping {'off' if not value else f'at norm {value:g}'} from the next step")

    def with_trainer(self, fn: Callable, callback: Callable | None = None) -> bool:
        """Run ``fn(trainer)`` between two steps (or now, when the run has ended)."""
        if self.runner is None or self.runner.trainer is None:
            return False
        self.runner.call(fn, callback)
        return True

    # -- the runner's signals ---------------------------------------------------------------------
    def _start(self, config, paused: bool, make=None, resuming: str | None = None) -> None:
        self.shutdown(timeout_ms=5000)
        # a resume keeps what is shown until its checkpoint has loaded (see _on_ready)
        self._before = (self.state, self.config, self.final) if resuming else None
        self.resuming = resuming
        if not resuming:
            self.data.clear()
        self.config, self.final = config, None
        self.control = TrainControl()
        make = make or self._make_trainer(config)
        # Collect the GUI's recent cyclic garbage here, on the GUI thread, before the training
        # thread starts its burst of allocations (imports, the first kernels): a collection
        # triggered there would destroy closed widgets' Qt objects off the GUI thread (seen: a
        # deadlock in ~QObject while torch._dynamo was imported on the training thread). The
        # young generations only: a full collection of this heap takes ~280 ms, a freeze at Play.
        gc.collect(1)
        recorder = self.recorder_factory(resuming) if self.recorder_factory is not None else None
        runner = TrainingRunner(make, self.control, paused=paused, describe=_describe, parent=self, recorder=recorder)
        runner.ready.connect(self._on_ready)
        runner.reports.connect(self._on_reports)
        runner.finished_run.connect(self._on_finished)
        runner.failed.connect(self._on_failed)
        runner.command_failed.connect(lambda text: self.alert.emit("Could not do that", text))
        self.runner = runner
        self._set(PAUSED if paused else RUNNING)
        self.message.emit(f"starting: {(config.title or 'experiment') if config else 'from a checkpoint'}")
        runner.start()

    @Slot(object)
    def _on_ready(self, facts: dict) -> None:
        if self.sender() is not self.runner:
            return  # a previous run's late signal
        self.config = facts["config"]  # a resumed run brings its own
        if self.resuming:
            self.data.clear()
            self.resuming = self._before = None
        self.data.reference_lines = facts["reference_lines"]
        self.ready.emit(facts)
        start = f"from step {facts['step']:,} to " if facts["step"] else ""
        self.message.emit(f"training on {facts['device']} ({facts['backend']} backend), "
                          f"{start}{facts['total_steps']:,} steps")

    @Slot(list)
    def _on_reports(self, reports: list) -> None:
        if self.sender() is self.runner:
            self.data.add(reports)

    @Slot(object)
    def _on_finished(self, final) -> None:
        if self.sender() is not self.runner:
            return
        self.final = final
        self.runner.wait()
        self._set(DONE)
        if final is None:
            return
        held = f", held-out loss {final.heldout_loss:.4g}" if final.heldout_loss is not None else ""
        if final.status == "nonfinite":
            self.message.emit(f"stopped: {final.message}")
            self.alert.emit("Training diverged", final.message)
            return
        warning = self.divergence()
        if warning:
            self.message.emit(f"warning: {warning} ({final.message} at step {final.step:,}{held})")
            self.alert.emit("Training diverged", warning)
        else:
            self.message.emit(f"{final.message} at step {final.step:,}{held}")

    def divergence(self) -> str | None:
        """Why the last run counts as diverged (finite but blown up), or None: the trainer's
        own verdict (status "diverged"), else the window's check of the curves."""
        final = self.final
        if final is not None and final.status == "diverged":
            return final.message or "the loss diverged"
        return self.data.divergence() if final is not None else None

    @Slot(str, str)
    def _on_failed(self, text: str, trace: str) -> None:
        if self.sender() is not self.runner:
            return
        self.runner.wait()
        self.last_trace = trace  # for the dialog's details; the log gets one plain line
        if self.resuming:  # the checkpoint did not load: everything stays as it was
            path, (state, config, final) = self.resuming, self._before
            self.resuming = self._before = None
            self.runner = None
            self.config, self.final = config, final
            self.message.emit(f"cannot resume from {path}: {text}")
            self._set(state if state in (IDLE, DONE) else DONE)
            self.alert.emit("Cannot resume", f"{path}\n\n{text}")
            return
        self.message.emit(f"error: {text}")
        self._set(DONE)
        self.alert.emit("Training failed", text)

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)


def _describe(trainer) -> dict:
    """Facts about a new run, read on the worker before its first step (plain data)."""
    return {
        "config": trainer.config,
        "step": trainer.step,  # > 0 when resumed from a checkpoint
        "device": _device_name(trainer.device),
        "backend": trainer.backend,
        "total_steps": trainer.total_steps,
        "parameters": [n for n, _ in trainer.model.named_parameters()],
        "reference_lines": trainer.task.reference_lines(),
        "loss": trainer.task.loss,
    }


def _device_name(device) -> str:
    if device.type == "cuda":
        import torch

        return f"GPU: {torch.cuda.get_device_name(device)}"
    return "CPU"
