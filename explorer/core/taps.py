"""All tap arithmetic of the Theano-compatible scan, in one place.

Sequences. A sequence of length ``L`` with taps from ``m = min(taps, 0)`` to
``M = max(taps, 0)`` allows ``L - (M - m)`` steps. Going forward, at step ``t`` tap ``k``
reads ``input[t - m + k]``. Going backwards the window walks from the sequence's own end
(each sequence from its own end, as PyTensor does) while taps keep their meaning in the
original order: step ``t`` of ``n_full`` reads ``input[(n_full - 1 - t) - m + k]``.

Recurrent outputs. Taps are negative; the step sees a window of the last
``W = max(-taps)`` values, oldest first, and tap ``k`` is window position ``W + k``.
``initial`` needs at least ``W`` rows; PyTensor uses its first ``W`` rows, the last of
those being the most recent (time ``t - 1`` for step 0).

Taps are passed to the step function in the order the user lists them, not sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SequenceTaps", "OutputTaps", "sequence_taps", "output_taps"]


@dataclass(frozen=True)
class SequenceTaps:
    taps: tuple[int, ...]
    length: int  # L, rows of the input
    n_full: int  # steps this sequence allows: L - (M - m); negative when L is too short
    span: int  # rows one step reads: M - m + 1
    starts: tuple[int, ...]  # per tap: index read at forward step 0, i.e. k - m

    def index(self, tap: int, step: int, backwards: bool = False) -> int:
        """The input row that tap number ``tap`` (position in ``taps``) reads at ``step``."""
        offset = (self.n_full - 1 - step) if backwards else step
        return self.starts[tap] + offset

    def slice(self, tap: int, n: int, backwards: bool = False) -> tuple[int, int]:
        """Rows ``[lo, hi)`` read by tap number ``tap`` over ``n`` steps (``n <= n_full``).

        Going backwards the rows are read from ``hi - 1`` down to ``lo``.
        """
        lo = self.starts[tap] + (self.n_full - n if backwards else 0)
        return lo, lo + n


@dataclass(frozen=True)
class OutputTaps:
    taps: tuple[int, ...]
    window: int  # W = max(-taps): how many past values the step can see
    positions: tuple[int, ...]  # per tap: index into the window (oldest first), W + k


def sequence_taps(length: int, taps: list[int] | tuple[int, ...]) -> SequenceTaps:
    """Plan the reads of a sequence with ``length`` rows and the given ``taps``."""
    taps = tuple(int(k) for k in taps)
    if not taps:
        raise ValueError("a sequence needs at least one tap")
    m, big_m = min(min(taps), 0), max(max(taps), 0)
    n_full = length - (big_m - m)
    return SequenceTaps(taps, length, n_full, big_m - m + 1, tuple(k - m for k in taps))


def output_taps(taps: list[int] | tuple[int, ...]) -> OutputTaps:
    """Plan the window of a recurrent output; every tap must be negative."""
    taps = tuple(int(k) for k in taps)
    if not taps or any(k >= 0 for k in taps):
        raise ValueError("output taps must be negative (-1 is the previous step)")
    window = max(-k for k in taps)
    return OutputTaps(taps, window, tuple(window + k for k in taps))
