"""The cost budget: how much one input (an expression, a scan program, a training config)
may create before it is refused, checked before the memory is taken.

One setting, ``SCAN_EXPLORER_BUDGET_BYTES`` (default 2 GiB, sized for a 24 GiB machine):
the bytes an input may create in total, summed over every operation (not the largest
tensor, not what happens to be alive at once). Time follows from it: the multiply-adds of
operations (an element created, or a multiply-add of a matrix product) may be at most
:data:`WORK_PER_BYTE` per byte of budget (2 GiB: about 2 x 10^10, seconds of one core).

Evaluation charges a :class:`Meter` before each allocation. The meter is per thread
(``threading.local``), so evaluations on different threads never share a total:

    with metering() as meter:      # one program: every expression it evaluates shares it
        expr(env)                  # each operation: meter.charge(...) before allocating
"""

from __future__ import annotations

import math
import os
import threading
import time
from contextlib import contextmanager

from .errors import ConfigError, FieldProblem

__all__ = [
    "ENV", "DEFAULT_BYTES", "WORK_PER_BYTE", "Interrupted", "OverBudget", "Meter", "budget_bytes",
    "metering", "active", "enter", "leave", "charge", "human_bytes", "limit_text", "cached_bytes",
    "refresh",
]  # fmt: skip

ENV = "SCAN_EXPLORER_BUDGET_BYTES"  # the one setting: bytes an input may create in total
DEFAULT_BYTES = 2 * 2**30  # 2 GiB: a tenth of a 24 GiB machine, room for the app and a run
WORK_PER_BYTE = 10  # operations allowed per byte of budget (2 GiB: ~2e10, a few seconds)


class Interrupted(Exception):
    """The meter's ``cancel`` event was set: the evaluation stops at its next operation.

    Not a ValueError (nor anything the expression compiler turns into an ExpressionError):
    it passes through every layer to the code that asked for the cancel.
    """


class OverBudget(Exception):
    """An operation would take the input over the budget (the caller names the place).

    Deliberately not an ExplorerError: the expression compiler turns it into an
    ExpressionError naming the sub-expression, the spec runner into a FieldProblem.
    """

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def budget_bytes() -> int:
    """The budget in bytes: ``SCAN_EXPLORER_BUDGET_BYTES`` if set, else :data:`DEFAULT_BYTES`."""
    raw = os.environ.get(ENV)
    if raw is None:
        return DEFAULT_BYTES
    cached = _parsed.get(raw)
    if cached is not None:
        return cached
    if not raw.strip():
        return DEFAULT_BYTES
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (1 <= value < 2**62) or not value.is_integer():
        raise ConfigError(FieldProblem(ENV, f"must be a whole number of bytes > 0, e.g. 2147483648; got {raw!r}"))
    _parsed[raw] = int(value)
    return int(value)


_parsed: dict[str, int] = {}  # raw setting -> bytes (a Meter is made per top-level evaluation)


def cached_bytes() -> int:
    """:func:`budget_bytes`, read from the environment at most once a second (reading
    ``os.environ`` costs microseconds; an expression called on its own makes a meter per
    call). :func:`refresh` forgets it at once."""
    now = time.monotonic()
    if now - _cache[0] > 1.0:
        _cache[1] = budget_bytes()
        _cache[0] = now
    return _cache[1]


def refresh() -> None:
    """Read the setting again at the next :func:`cached_bytes` (after changing it)."""
    _cache[0] = -math.inf


_cache: list = [-math.inf, DEFAULT_BYTES]  # [when it was read (monotonic), bytes]


def human_bytes(n: float) -> str:
    """``8.0 GB``, ``400 MB``, ``12 KB``, ``96 bytes`` (powers of 1000, as a disk says)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{int(n)} bytes"


def limit_text(limit: int) -> str:
    """``the budget is 2.1 GB (SCAN_EXPLORER_BUDGET_BYTES)``."""
    return f"the budget is {human_bytes(limit)} ({ENV})"


class Meter:
    """Bytes and operations charged so far against the limits of one input."""

    __slots__ = ("limit", "work_limit", "used", "work", "refused", "cancel")

    def __init__(self, limit: int | None = None, cancel: threading.Event | None = None):
        self.limit = budget_bytes() if limit is None else int(limit)
        self.work_limit = self.limit * WORK_PER_BYTE  # operations
        self.used = 0  # bytes charged so far
        self.work = 0  # operations charged so far
        self.refused: str | None = None  # the message of the first refusal, if any
        self.cancel = cancel  # set from another thread: the next charge raises Interrupted

    def charge(self, nbytes: int, work: int = 0) -> None:
        """Take ``nbytes`` (and ``work`` operations), or raise :class:`OverBudget`
        (:class:`Interrupted` once ``cancel`` is set)."""
        if self.cancel is not None and self.cancel.is_set():
            raise Interrupted("cancelled")
        used = self.used + nbytes
        if used > self.limit:
            self._refuse(
                f"would create {human_bytes(nbytes)} ({nbytes:,} bytes), bringing the total to "
                f"{human_bytes(used)}; {limit_text(self.limit)}: make it smaller"
            )
        if work:
            total = self.work + work
            if total > self.work_limit:
                self._refuse(
                    f"would take {work:.3g} operations (total {total:.3g}); at most "
                    f"{self.work_limit:.3g} are allowed ({WORK_PER_BYTE} per byte of {ENV}): make it smaller"
                )
            self.work = total
        self.used = used

    def _refuse(self, message: str):
        if self.refused is None:
            self.refused = message
        raise OverBudget(message)


_local = threading.local()


def active() -> Meter | None:
    """This thread's meter, or None outside :func:`metering`."""
    return getattr(_local, "meter", None)


@contextmanager
def metering(limit: int | None = None, meter: Meter | None = None):
    """Charge everything evaluated on this thread inside the block to one meter."""
    meter = Meter(limit) if meter is None else meter
    outer = getattr(_local, "meter", None)
    _local.meter = meter
    try:
        yield meter
    finally:
        _local.meter = outer


def enter(meter: Meter) -> Meter | None:
    """Make ``meter`` this thread's meter; returns the one it replaces (give it to :func:`leave`).
    The cheap form of :func:`metering`, for code that runs on every step."""
    outer = getattr(_local, "meter", None)
    _local.meter = meter
    return outer


def leave(outer: Meter | None) -> None:
    _local.meter = outer


def charge(nbytes: int, work: int = 0) -> None:
    """Charge this thread's meter (nothing outside :func:`metering`)."""
    meter = getattr(_local, "meter", None)
    if meter is not None:
        meter.charge(nbytes, work)
