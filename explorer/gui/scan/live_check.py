"""Check the form while the user types: debounced, and never on the GUI thread.

The static checks (names, taps, every expression parsed and compiled: no value is
computed) run at once on the GUI thread; they are bounded by the expression limits. What
evaluates user data (the data, the dry run of step 0, the cost estimate) runs on a worker
(:class:`~explorer.gui.threads.BackgroundCall`), so a heavy spec never freezes the window.
A newer check supersedes an older one: the older is cancelled at its next operation (the
budget meter's cancel event) and its answer dropped; closing cancels and joins. A spec whose
check is slow stretches the debounce pause to twice the last check's time.

The checks are the scan form's by default; another form passes its own (the Model form's
custom cell: its structure at once, the dry run of step 0 on the worker).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.core.budget import Interrupted
from explorer.core.errors import FieldProblem

from ..threads import BackgroundCall

if TYPE_CHECKING:  # this module is torch-free (the Model form checks its custom cell with it); the spec is not
    from explorer.core.spec import ScanSpec

DEBOUNCE_MS = 200  # pause in typing before checking
MAX_DEBOUNCE_MS = 1500


def validate(spec: ScanSpec) -> list[FieldProblem]:
    """The scan form's static checks (the workbench has imported the spec and torch)."""
    from explorer.core.spec import validate

    return validate(spec)


def check_lengths(spec: ScanSpec, cancel: threading.Event | None = None):
    """The scan form's evaluation on the worker: (problems, sequence lengths)."""
    from explorer.core.spec.run import check_lengths

    return check_lengths(spec, cancel=cancel)


@dataclass
class Verdict:
    """One check of the form: the spec read, every problem, and sequence lengths if clean."""

    spec: Any  # what was checked: a ScanSpec (or what the form's ``read`` gives)
    problems: list[FieldProblem]
    lengths: dict[str, int] | None = None  # what the evaluation measured (sequence lengths); None on problems
    ms: float = 0.0  # how long the check took
    complete: bool = True  # False: the static checks passed, the worker is still checking values
    read_problems: tuple = ()  # what reading the form found (to tell whether the form changed)


class LiveCheck(QObject):
    """``schedule()`` on every edit; ``checked(Verdict)`` when a check is complete.

    ``now()`` checks at once: it returns a complete verdict when the static checks already
    find problems, else a provisional one (``complete`` False, also sent as ``previewed``)
    while the worker checks the values.
    """

    checked = Signal(object)  # a complete Verdict
    previewed = Signal(object)  # a provisional Verdict: static checks passed, values being checked

    def __init__(self, read: Callable[[], tuple[ScanSpec, list[FieldProblem]]], parent: QObject | None = None, *,
                 static: Callable[[Any], list[FieldProblem]] = validate,
                 evaluate: Callable[..., tuple[list[FieldProblem], dict | None]] = check_lengths,
                 whole: str = "spec", debounce_ms: int = DEBOUNCE_MS):
        """``static(spec)``: the problems found without evaluating (GUI thread);
        ``evaluate(spec, cancel=event)``: (problems, lengths) on the worker; ``whole``: the
        field of a problem with the whole form (a check that failed)."""
        super().__init__(parent)
        self._read, self._static, self._evaluate, self._whole = read, static, evaluate, whole
        self._debounce_ms = debounce_ms
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self.now)
        self.last: Verdict | None = None
        self._generation = 0  # bumped by every check: only the newest one's answer counts
        self._job: BackgroundCall | None = None  # the check running on a worker
        self._cancel: threading.Event | None = None  # cancels it
        self._queued: tuple | None = None  # (spec, read problems, generation): next to run
        self._closed = False

    def schedule(self) -> None:
        """After an edit: check after a pause; a check of the older form is dropped (cancelled)."""
        self._generation += 1
        self._cancel_running()
        self._timer.start()

    def pending(self) -> bool:
        """An edit waits for its check, or a check is running."""
        return self._timer.isActive() or (self.last is not None and not self.last.complete)

    def is_current(self) -> bool:
        """The last verdict is complete and about what the form shows now."""
        if self.last is None or not self.last.complete or self._timer.isActive():
            return False
        spec, problems = self._read()
        return spec == self.last.spec and tuple(problems) == self.last.read_problems

    def now(self) -> Verdict:
        """Check at once (Run does this, so it never runs a spec that was not checked)."""
        self._timer.stop()
        self._generation += 1
        start = time.perf_counter()
        spec, read_problems = self._read()
        problems = list(read_problems)
        try:
            problems += [p for p in self._static(spec) if p.field not in {q.field for q in read_problems}]
        except Exception as exc:  # noqa: BLE001 - the check reports problems; anything else is a bug, shown
            problems.append(FieldProblem(self._whole, f"{type(exc).__name__}: {exc}"))
        if self._closed:
            problems.append(FieldProblem(self._whole, "the form is closing: nothing is checked any more"))
        if problems:  # nothing to evaluate: the answer is known now
            self._cancel_running()
            ms = (time.perf_counter() - start) * 1000
            self.last = Verdict(spec, problems, None, ms, True, tuple(read_problems))
            self.checked.emit(self.last)
            return self.last
        self.last = Verdict(spec, [], None, 0.0, False, tuple(read_problems))
        self.previewed.emit(self.last)
        self._submit(spec, tuple(read_problems), self._generation)
        return self.last

    def shutdown(self, ms: int = 5000) -> bool:
        """Cancel any check and join its thread; True when none is left."""
        self._closed = True
        self._timer.stop()
        self._queued = None
        self._cancel_running()
        return self._job is None or self._job.wait(ms)

    # -- the worker ---------------------------------------------------------------------------
    def _cancel_running(self) -> None:
        self._queued = None
        if self._cancel is not None:
            self._cancel.set()

    def _submit(self, spec: Any, read_problems: tuple, generation: int) -> None:
        if self._job is not None and self._job.is_running():
            self._cancel.set()  # superseded: it stops at its next operation
            self._queued = (spec, read_problems, generation)
            return
        cancel = threading.Event()
        evaluate = self._evaluate

        def work():
            begin = time.perf_counter()
            problems, lengths = evaluate(spec, cancel=cancel)
            return problems, lengths, (time.perf_counter() - begin) * 1000

        job = BackgroundCall(work, self)
        job.finished.connect(lambda result: self._done(job, spec, read_problems, generation, result))
        job.failed.connect(lambda message, trace: self._failed(job, spec, read_problems, generation, message))
        self._job, self._cancel = job, cancel
        job.start()

    def _done(self, job, spec, read_problems, generation, result) -> None:
        problems, lengths, ms = result
        self._finish(job, generation, Verdict(spec, list(problems), lengths, ms, True, read_problems))

    def _failed(self, job, spec, read_problems, generation, message) -> None:
        verdict = None
        if not (self._cancel is not None and self._cancel.is_set()):  # a cancel is no verdict
            problem = FieldProblem(self._whole, message)  # the check reports problems; anything else is a bug, shown
            verdict = Verdict(spec, [problem], None, 0.0, True, read_problems)
        self._finish(job, generation, verdict)

    def _finish(self, job, generation, verdict: Verdict | None) -> None:
        if job is self._job:
            self._job = self._cancel = None
        job.deleteLater()
        if verdict is not None and generation == self._generation and not self._closed:
            self._timer.setInterval(int(min(MAX_DEBOUNCE_MS, max(self._debounce_ms, 2 * verdict.ms))))
            self.last = verdict
            self.checked.emit(verdict)
        queued, self._queued = self._queued, None
        if queued is not None and not self._closed:
            self._submit(*queued)


__all__ = ["DEBOUNCE_MS", "Interrupted", "LiveCheck", "Verdict"]
