"""Check the form while the user types: debounced, on the GUI thread, timed.

``check()`` is cheap for the gallery's specs (well under 5 ms: static checks, evaluating
small data, one dry step), so it runs on the GUI thread after a short pause in typing.
A spec whose check is slow (big generated data) stretches the pause to twice the last
check's time, so typing never stalls on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.core.errors import FieldProblem
from explorer.core.spec import ScanSpec, check

from .stepdata import sequence_lengths

DEBOUNCE_MS = 200  # pause in typing before checking
MAX_DEBOUNCE_MS = 1500


@dataclass
class Verdict:
    """One check of the form: the spec read, every problem, and sequence lengths if clean."""

    spec: ScanSpec
    problems: list[FieldProblem]
    lengths: dict[str, int] | None = None  # None when there are problems
    ms: float = 0.0  # how long the check took


class LiveCheck(QObject):
    """``schedule()`` on every edit; ``checked(Verdict)`` after a pause, or at ``now()``."""

    checked = Signal(object)

    def __init__(self, read: Callable[[], tuple[ScanSpec, list[FieldProblem]]], parent: QObject | None = None):
        super().__init__(parent)
        self._read = read
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.now)
        self.last: Verdict | None = None

    def schedule(self) -> None:
        self._timer.start()

    def pending(self) -> bool:
        return self._timer.isActive()

    def now(self) -> Verdict:
        """Check at once (Run does this, so it never runs a spec that was not checked)."""
        self._timer.stop()
        start = time.perf_counter()
        spec, problems = self._read()
        try:
            problems = problems + [p for p in check(spec) if p.field not in {q.field for q in problems}]
        except Exception as exc:  # noqa: BLE001 - check() reports problems; anything else is a bug, shown
            problems = problems + [FieldProblem("spec", f"{type(exc).__name__}: {exc}")]
        lengths = None
        if not problems:
            try:
                lengths = sequence_lengths(spec)
            except Exception as exc:  # noqa: BLE001 - same data check() evaluated: should not fail
                problems = [FieldProblem("spec", f"{type(exc).__name__}: {exc}")]
        ms = (time.perf_counter() - start) * 1000
        self._timer.setInterval(int(min(MAX_DEBOUNCE_MS, max(DEBOUNCE_MS, 2 * ms))))
        self.last = Verdict(spec, problems, lengths, ms)
        self.checked.emit(self.last)
        return self.last
