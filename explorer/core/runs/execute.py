"""``train_run``: THE headless driver. The CLI and sweep workers train through it (the window
drives a :class:`RunWriter` on its own worker thread)."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, ExplorerError, FieldProblem
from ..lab.config import ExperimentConfig
from ..lab.control import TrainControl
from ..lab.reports import StepReport
from .compare import config_diff
from .export import ExportFolder
from .record import FAILED, FINISHED, NONFINITE, STOPPED, RunRecord
from .store import RunStore
from .writer import exception_message

CHECKPOINT_EVERY_S = 60.0  # a checkpoint at the first full report this long after the last one


def train_run(config: ExperimentConfig | None, store: RunStore | None, *, name: str | None = None,
              source: str = "cli", sweep: str | None = None, trial: int | None = None,
              params: dict | None = None, control: TrainControl | None = None,
              on_report: Callable[[StepReport], None] | None = None,
              resume_from: str | Path | None = None, run_id: str | None = None,
              out: str | Path | None = None, checkpoint_every_s: float | None = CHECKPOINT_EVERY_S,
              on_start: Callable[[object, str | None], None] | None = None) -> RunRecord:
    """Train ``config`` to the end and record it in ``store`` (None: record nothing).

    - ``resume_from``: continue from a checkpoint (``config`` None = the checkpoint's; else its
      train section applies, and its task and model must match). A checkpoint of one of the
      store's runs continues that run's record; any other starts a new one.
    - ``run_id``: an existing run continues from its checkpoint; a new id (``store.new_id()``)
      names the run to create, so a caller can know it before training starts.
    - ``out``: also export config.json, metrics.csv and the checkpoint there (locked for the run).
    - ``checkpoint_every_s``: a checkpoint in the run at the first full report this long after
      the last (None: only at the end), so a killed run resumes close to where it died.
    - ``on_start(trainer, run_id)`` before the first step; ``on_report(report)`` after every
      report. If either or training raises, the run is finished with status
      ``getattr(exc, "run_status", "failed")`` and the message, and the exception re-raised.
    """
    continue_id = None
    if store is not None and run_id is not None and _has_record(store, run_id):
        continue_id = run_id
        if resume_from is None:
            resume_from = store.checkpoint_path(run_id)  # None: killed before its first checkpoint
            if resume_from is None and config is None:
                raise ExplorerError(f"run {run_id} has no checkpoint to continue from; pass its config "
                                    "to start it again from step 0")
    elif store is not None and resume_from is not None and run_id is None:
        continue_id = store.run_of(resume_from)
    export = ExportFolder(out) if out is not None else None  # refused before any training starts
    try:
        try:
            trainer = _trainer(config, control, resume_from)
        except Exception as exc:
            if store is not None and sweep is not None and config is not None and continue_id is None:
                # a sweep trial that cannot even start still gets its run, failed with the message,
                # so the Runs panel shows every trial of the sweep
                with store.create(config, name=name, source=source, sweep=sweep, trial=trial, params=params,
                                  run_id=run_id) as failed:
                    failed.finish(getattr(exc, "run_status", FAILED), exception_message(exc))
            raise
        writer = None
        if store is not None:
            if continue_id is not None:
                writer = store.resume_writer(continue_id, step=trainer.step)
            else:
                writer = store.create(trainer.config, name=name, source=source, sweep=sweep, trial=trial,
                                      params=params, run_id=run_id)
        summary = _Summary(trainer)
        try:
            if writer is not None:
                writer.describe(trainer)
                if name and continue_id is not None:
                    store.rename(writer.id, name)
            if export is not None:
                export.start(trainer)
            if on_start is not None:
                on_start(trainer, writer.id if writer else None)
            last, saved = None, time.monotonic()
            for report in trainer.reports():
                if writer is not None:
                    writer.write(report)
                if export is not None:
                    export.write(report)
                summary.write(report)
                if on_report is not None:
                    on_report(report)
                last = report
                if (writer is not None and report.full and not report.done and checkpoint_every_s is not None
                        and time.monotonic() - saved >= checkpoint_every_s):
                    writer.save_checkpoint(trainer)
                    saved = time.monotonic()
            status = last.status if last is not None else FINISHED
            message = last.message if last is not None else "nothing left to train"
            if status != NONFINITE:  # a non-finite run keeps its last good checkpoint
                if writer is not None:
                    writer.save_checkpoint(trainer)
                if export is not None:
                    export.checkpoint(trainer)
            if writer is None:
                return summary.record(status, message)
            return writer.finish(status, message)
        except BaseException as exc:
            status = getattr(exc, "run_status", STOPPED if isinstance(exc, KeyboardInterrupt) else FAILED)
            if writer is not None:
                writer.finish(status, exception_message(exc))
            raise
    finally:
        if export is not None:
            export.close()


def _has_record(store: RunStore, run_id: str) -> bool:
    try:
        store.get(run_id)
        return True
    except ExplorerError:  # unknown, or a folder whose writer died before writing the record
        return False


def _trainer(config: ExperimentConfig | None, control, resume_from):
    from ..lab.persistence import load_checkpoint
    from ..lab.training import Trainer

    if resume_from is None:
        if config is None:
            raise ExplorerError("train_run needs a config or a checkpoint to resume from")
        return Trainer(config, control)
    if config is None:
        return Trainer.resume(resume_from, control)
    saved = load_checkpoint(resume_from)[1]["config"]
    clash = {k: v for k, v in config_diff(saved.to_dict(), config.to_dict()).items()
             if k.startswith(("task.", "model."))}
    if clash:
        raise ConfigError([FieldProblem(k, f"is {b!r} but the checkpoint {resume_from} was trained with {a!r}; "
                                        "a resumed run keeps its task and model") for k, (a, b) in clash.items()])
    changes = {f.name: getattr(config.train, f.name) for f in dataclasses.fields(config.train)
               if getattr(config.train, f.name) != getattr(saved.train, f.name)}
    return Trainer.resume(resume_from, control, **changes)


class _Summary:
    """The record of a run trained without a store (``--no-record``): built in memory."""

    def __init__(self, trainer):
        from ..lab.device import describe

        self.trainer, self.device = trainer, describe(trainer.device)
        self.created = self.started = time.time()
        self.loss = self.heldout = self.best = None
        self.elapsed = trainer.elapsed_s

    def write(self, report: StepReport) -> None:
        if not report.full:
            return
        if report.loss is not None:
            self.loss = _finite(report.loss)
        if report.heldout_loss is not None:
            self.heldout = h = _finite(report.heldout_loss)
            if h is not None and (self.best is None or h < self.best):
                self.best = h
        if report.elapsed_s is not None:
            self.elapsed = report.elapsed_s

    def record(self, status: str, message: str) -> RunRecord:
        t = self.trainer
        return RunRecord(id="", status=status, message=message, created=self.created, started=self.started,
                         ended=time.time(), duration_s=self.elapsed, steps=t.step, total_steps=t.total_steps,
                         final_heldout=self.heldout, best_heldout=self.best, final_loss=self.loss,
                         steps_per_s=t.step / self.elapsed if self.elapsed else None, device=self.device,
                         backend=t.backend, config=t.config.to_dict())


def _finite(x):
    return float(x) if x is not None and math.isfinite(x) else None
