"""``RunWriter``: the one object that writes a run (metrics, checkpoint, record) while it trains.

It holds the run's lock for its whole life, so two writers never share a run; made by
:meth:`RunStore.create` (a new run) or :meth:`RunStore.resume_writer` (the same record,
continued from a checkpoint). Use it on the thread that trains::

    with store.create(config, source="window") as writer:
        writer.describe(trainer)
        for report in trainer.reports():
            writer.write(report)
        writer.save_checkpoint(trainer)
        writer.finish(report.status, report.message)

``run.json`` is rewritten atomically at the start, about once a second while training (so
the list shows progress) and at the end; metric rows are appended as whole lines.
"""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
import time
from pathlib import Path

import numpy as np

from ..lab.metrics import MetricsWriter, read_metrics
from ..lab.reports import StepReport
from .lock import FolderLock
from .record import FAILED, RECORD_FILE, RUNNING, STOPPED, RunRecord, write_json_atomic

METRICS_FILE = "metrics.csv"
CHECKPOINT_FILE = "checkpoint.safetensors"
FLUSH_EVERY_S = 1.0  # run.json progress updates while training (the list's steps column)
_STALE = (".checkpoint.", "..checkpoint.", f".{RECORD_FILE}.", f".{METRICS_FILE}.")  # temp names a dead writer leaves


class RunWriter:
    """Writes one run; see the module docstring. Not thread-safe: use it from one thread."""

    def __init__(self, record: RunRecord, lock: FolderLock, *, resume_step: int | None = None):
        self.id, self.path = record.id, Path(record.path)
        self._lock = lock  # held: acquired by the store before this object exists
        self._clean_stale()
        self._fields = dataclasses.asdict(record)
        self._fields.pop("path")
        self._best = record.best_heldout
        self.finished = False
        metrics = self.path / METRICS_FILE
        if resume_step is None:
            self._metrics = MetricsWriter(metrics)
        else:
            self._metrics = MetricsWriter(metrics, append=True, after_step=resume_step)
            self._from_rows(resume_step)
        self._fields.update(status=RUNNING, message="", ended=None)
        self._flushed = 0.0
        self.flush(fsync=True)

    # -- state ---------------------------------------------------------------------------------
    @property
    def record(self) -> RunRecord:
        return RunRecord(**self._fields, path=self.path)

    def _from_rows(self, step: int) -> None:
        """After dropping the rows past ``step``: the summary as those rows leave it."""
        rows = read_metrics(self.path / METRICS_FILE)
        loss, heldout, elapsed = rows["loss"], rows["heldout_loss"], rows["elapsed_s"]
        finite = heldout[np.isfinite(heldout)]
        self._best = float(finite.min()) if len(finite) else None
        self._fields.update(
            steps=step, final_loss=_last(loss), final_heldout=_last(heldout), best_heldout=self._best,
            duration_s=_last(elapsed) or 0.0)
        self._fields["steps_per_s"] = _rate(step, self._fields["duration_s"])

    def describe(self, trainer) -> None:
        """Facts of the trainer that will write this run: device, backend, planned steps."""
        from ..lab.device import describe

        self._fields.update(device=describe(trainer.device), backend=trainer.backend,
                            total_steps=trainer.total_steps, steps=trainer.step, started=time.time(),
                            config=trainer.config.to_dict())
        self.flush()

    # -- writing -------------------------------------------------------------------------------
    def write(self, report: StepReport) -> None:
        """Note ``report``; a full one past the last row becomes a metric row."""
        f = self._fields
        f["steps"] = max(f["steps"] or 0, report.step)
        if report.total_steps is not None:
            f["total_steps"] = report.total_steps
        if report.full:
            self._metrics.write(report)
            if report.loss is not None:
                f["final_loss"] = _finite(report.loss)
            if report.heldout_loss is not None:
                f["final_heldout"] = h = _finite(report.heldout_loss)
                if h is not None and (self._best is None or h < self._best):
                    self._best = f["best_heldout"] = h
            if report.elapsed_s is not None:
                f["duration_s"] = report.elapsed_s
                f["steps_per_s"] = _rate(f["steps"], report.elapsed_s)
        if time.monotonic() - self._flushed > FLUSH_EVERY_S:
            self.flush()

    def save_checkpoint(self, trainer) -> Path:
        """The trainer's checkpoint as ``<run>/checkpoint.safetensors``, atomically (a temp
        name unique to this writer, then ``os.replace``)."""
        final = write_checkpoint(trainer, self.path / CHECKPOINT_FILE)
        self._fields["checkpoint_step"] = trainer.step
        return final

    def flush(self, fsync: bool = False) -> None:
        """Rewrite run.json now (atomically)."""
        write_json_atomic(self.path / RECORD_FILE, self.record.to_json(), fsync=fsync)
        self._flushed = time.monotonic()

    def finish(self, status: str, message: str = "", report: StepReport | None = None) -> RunRecord:
        """End the run: write ``report`` if given, then the status, message and end time; the
        lock is let go. A second call does nothing."""
        if self.finished:
            return self.record
        try:
            if report is not None:
                self.write(report)
            self._fields.update(status=status, message=message, ended=time.time())
            self.flush(fsync=True)
        finally:
            self.finished = True
            self._metrics.close()
            self._lock.release()
        return self.record

    def close(self) -> None:
        """Let the run go; one never finished counts as stopped."""
        if not self.finished:
            self.finish(STOPPED, "closed before it finished")

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if exc is not None and not self.finished:
            stopped = isinstance(exc, KeyboardInterrupt)
            status = getattr(exc, "run_status", STOPPED if stopped else FAILED)
            self.finish(status, exception_message(exc))
        self.close()

    def _clean_stale(self) -> None:
        for entry in os.scandir(self.path):
            if entry.name.startswith(_STALE) and entry.name.endswith((".tmp", ".safetensors")):
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass


def write_checkpoint(trainer, final: Path) -> Path:
    """``trainer.checkpoint`` into ``final`` atomically: a temp name unique to this writer
    (pid + random) in the same folder, then ``os.replace``."""
    tmp = final.with_name(f".checkpoint.{os.getpid()}.{secrets.token_hex(4)}{final.suffix}")
    try:
        trainer.checkpoint(tmp)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return final


def exception_message(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _last(values) -> float | None:
    for v in values[::-1]:
        if math.isfinite(v):
            return float(v)
    return None


def _rate(steps, seconds) -> float | None:
    return steps / seconds if steps and seconds else None
