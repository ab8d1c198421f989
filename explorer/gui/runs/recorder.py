"""The window's runs go into the workspace: a :class:`RunRecorder` drives a RunWriter on the
training thread (full reports, a checkpoint now and then and at the end, the status), so no
file is written on the GUI thread.

The runner calls ``start(trainer)`` before the first step, ``write(report)`` after each,
and ``finish(trainer, final)`` or ``fail(exc)`` at the end. A recorder that cannot write
(a read-only workspace) says so once and lets training go on unrecorded.
"""

from __future__ import annotations

import time
from pathlib import Path

from explorer.core.errors import ExplorerError
from explorer.core.runs import FAILED, NONFINITE, RunStore

CHECKPOINT_EVERY_S = 60.0  # a checkpoint in the run this often, so a crashed window loses little


class RunRecorder:
    """Records one training run of the window (use it from the training thread only)."""

    def __init__(self, store: RunStore, resume_from: str | Path | None = None, name: str | None = None):
        self.store, self.resume_from, self.name = store, resume_from, name
        self.writer = None
        self.run_id: str | None = None  # known once start() has run
        self.problem: str | None = None  # why the run is not being recorded
        self._saved = 0.0

    def start(self, trainer) -> str | None:
        """Open the run (a checkpoint of one of the store's runs continues that run's record).
        Returns a problem to show, or None."""
        try:
            continue_id = self.store.run_of(self.resume_from) if self.resume_from else None
            if continue_id is not None:
                self.writer = self.store.resume_writer(continue_id, step=trainer.step)
            else:
                self.writer = self.store.create(trainer.config, name=self.name, source="window")
            self.writer.describe(trainer)
            self.run_id = self.writer.id
            self._saved = time.monotonic()
        except (ExplorerError, OSError) as exc:
            return self._give_up(exc)
        return None

    def write(self, trainer, report) -> str | None:
        if self.writer is None:
            return None
        try:
            self.writer.write(report)
            if report.full and not report.done and time.monotonic() - self._saved >= CHECKPOINT_EVERY_S:
                self.writer.save_checkpoint(trainer)
                self._saved = time.monotonic()
        except (ExplorerError, OSError) as exc:
            return self._give_up(exc)
        return None

    def finish(self, trainer, final) -> str | None:
        """The final checkpoint (not after a non-finite step: the last good one stays) and status."""
        if self.writer is None:
            return None
        try:
            status = final.status if final is not None else "stopped"
            if status != NONFINITE and trainer.step > 0:
                self.writer.save_checkpoint(trainer)
            self.writer.finish(status, final.message if final is not None else "ended before a report")
        except (ExplorerError, OSError) as exc:
            return self._give_up(exc)
        finally:
            self.writer = None
        return None

    def fail(self, exc: BaseException) -> None:
        if self.writer is not None:
            try:
                self.writer.finish(FAILED, f"{type(exc).__name__}: {exc}")
            except (ExplorerError, OSError):
                pass
            self.writer = None

    def _give_up(self, exc: BaseException) -> str:
        if self.writer is not None:
            try:
                self.writer.finish(FAILED, f"could not record: {exc}")
            except (ExplorerError, OSError):
                pass
        self.writer = None
        self.problem = f"this run is not recorded in the workspace {self.store.workspace}: {exc}"
        return self.problem
