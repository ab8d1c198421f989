"""The RNN lab's tasks: ``TASKS = {"cumsum", "echo", "copy", "adding"}``.

Layouts and seeding are described in :mod:`.task_base`; each task here says how to draw
sequences, what loss it uses and which loss levels are worth a reference line.
"""

from __future__ import annotations

import math
from itertools import product
from typing import Callable, Iterator

import numpy as np

from .config import TaskConfig, TrainConfig
from .task_base import FAMILY, PROBE, TRAIN, Batch, Task, entropy, one_hot, pad_mask, rng_for

__all__ = ["TASKS", "make_task", "Task", "Batch", "CumsumTask", "EchoTask", "CopyTask", "AddingTask",
           "FAMILIES", "echo_stream", "echo_expected_loss"]


def _sine(rng, n, T):
    amp, period = rng.uniform(0.5, 1.5, (n, 1)), rng.uniform(8, 40, (n, 1))  # (n, 1) each
    phase = rng.uniform(0, 2 * np.pi, (n, 1))  # (n, 1)
    return amp * np.sin(2 * np.pi * np.arange(T)[None, :] / period + phase)  # (n, T)


def _nonzero_mean(rng, n, T):
    mu = rng.uniform(0.25, 0.75, (n, 1)) * rng.choice([-1.0, 1.0], (n, 1))  # (n, 1)
    return mu + rng.standard_normal((n, T))  # (n, T)


FAMILIES: dict[str, Callable] = {
    "train": lambda rng, n, T: rng.standard_normal((n, T)),
    "sine": _sine,
    "nonzero_mean": _nonzero_mean,
    "longer": lambda rng, n, T: rng.standard_normal((n, T)),
}


class CumsumTask(Task):
    """Source 000: inputs N(0, 1), targets their running sum, durations min_len..max_len."""

    name = "cumsum"
    families = tuple(FAMILIES)  # for the qualitative testing panel

    def max_length(self) -> int:
        return self.config.max_len

    def sequences(self, rng, n, pad_to=None):
        c = self.config
        lengths = rng.integers(c.min_len, c.max_len + 1, size=n)  # (n,)
        mask = pad_mask(lengths, pad_to)  # (T, n)
        x = rng.standard_normal(mask.shape, dtype=np.float32) * mask  # (T, n), zero past each end
        return x[:, :, None], np.cumsum(x, axis=0)[:, :, None], mask  # (T, n, 1), (T, n, 1), (T, n)

    def probe(self):
        """One full-length sequence (max_len steps)."""
        rng = rng_for(PROBE, self.config.probe_seed)
        x = rng.standard_normal((self.config.max_len, 1, 1), dtype=np.float32)  # (T, 1, 1)
        return x, np.cumsum(x, axis=0), np.ones((self.config.max_len, 1), np.float32)

    def reference_lines(self) -> dict[str, float]:
        # Predicting 0: E[(x_1 + ... + x_t)^2] = t; a sequence of L steps scores (L + 1) / 2.
        lengths = np.arange(self.config.min_len, self.config.max_len + 1)  # equally likely
        return {"predict 0": float(np.mean((lengths + 1) / 2)), "source 000 (printed loss EMA)": 0.024}

    def family(self, name: str, n: int, length: int | None = None, seed: int = 0):
        """Generalisation inputs for qualitative tests, batch-first: (inputs (n, T, 1), targets, mask (n, T)).

        ``train``: N(0, 1) as in training; ``sine``: sine waves of random amplitude, period
        and phase; ``nonzero_mean``: N(mu, 1) with |mu| in 0.25..0.75; ``longer``: N(0, 1),
        by default 4x the longest training sequence. Other lengths: pass ``length``.
        """
        if name not in FAMILIES:
            raise ValueError(f"unknown family {name!r}; families: {', '.join(FAMILIES)}")
        length = int(length or (4 * self.config.max_len if name == "longer" else self.config.max_len))
        rng = rng_for(FAMILY, seed, list(FAMILIES).index(name))
        x = FAMILIES[name](rng, n, length).astype(np.float32)  # (n, T)
        return x[:, :, None], np.cumsum(x, axis=1)[:, :, None], np.ones((n, length), np.float32)


# -- echo (source 002) ----------------------------------------------------------------------
ECHO_EFFECTS = {3: +0.5, 8: -0.25}  # P(Y_t = 1) = 0.5 + 0.5 X[t-3] - 0.25 X[t-8]


def echo_stream(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Source 002's ``gen_data``, vectorised: X ~ Bernoulli(0.5); Y_t = 1 with the probability above.

    Like the source (``X[i-3]`` with a negative index), the first steps look back at the
    end of the stream.
    """
    x = rng.integers(0, 2, size=size)  # (size,)
    threshold = 0.5 + sum(w * np.roll(x, lag) for lag, w in ECHO_EFFECTS.items())  # (size,)
    y = (rng.random(size) <= threshold).astype(np.int64)  # (size,): source: rand > threshold -> 0
    return x, y


def echo_expected_loss(known_lags: tuple[int, ...]) -> float:
    """Expected cross-entropy of the best predictor that sees only X[t-lag] for ``known_lags``."""
    lags = list(ECHO_EFFECTS)
    by_known: dict[tuple, list[float]] = {}
    for bits in product((0, 1), repeat=len(lags)):
        p = 0.5 + sum(ECHO_EFFECTS[lag] * b for lag, b in zip(lags, bits))
        by_known.setdefault(tuple(b for lag, b in zip(lags, bits) if lag in known_lags), []).append(p)
    # each group of contexts is equally likely; the best prediction there is the group's mean p
    return sum(len(ps) * entropy(float(np.mean(ps))) for ps in by_known.values()) / 2 ** len(lags)


class EchoTask(Task):
    """Source 002: one long binary stream per epoch, split into ``batch_size`` rows and cut into
    windows of ``num_steps`` (the source's ``gen_batch``)::

        stream x_0 ... x_{N-1}  ->  rows (B, N // B)  ->  time-major (N // B, B)
        row b = x[b*L : (b+1)*L]      window w = steps w*n .. (w+1)*n - 1 of every row  -> (n, B)
    """

    name, loss, input_size, output_size, has_epochs = "echo", "cross_entropy", 2, 2, True
    ROW = 1_000  # steps per held-out row
    PROBE_STEPS = 60  # steps of the probe sequence

    def max_length(self) -> int:
        return self.ROW

    WARMUP = max(ECHO_EFFECTS)  # held-out rows start from a zero state: their first steps have no history

    def sequences(self, rng, n, pad_to=None, length=None):
        """``n`` independent rows of ``length`` steps; the first WARMUP steps are masked out."""
        length = length or self.ROW
        x, y = echo_stream(rng, n * length)  # (n * L,) each
        x, y = x.reshape(n, length).T, y.reshape(n, length).T  # (L, n) each
        mask = np.ones(x.shape, np.float32)  # (L, n)
        mask[: self.WARMUP] = 0.0
        return one_hot(x, 2), y, mask  # (L, n, 2), (L, n), (L, n)

    def probe(self):
        return self.sequences(rng_for(PROBE, self.config.probe_seed), 1, length=self.PROBE_STEPS)

    def steps_per_epoch(self, train: TrainConfig) -> int:
        return self.config.stream_length // train.batch_size // train.num_steps

    def epoch_matrix(self, seed: int, epoch: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Epoch ``epoch``'s stream as time-major rows: (x (L, B), y (L, B)), L = N // B."""
        x, y = echo_stream(rng_for(TRAIN, seed, epoch), self.config.stream_length)  # (N,) each
        L = self.config.stream_length // batch_size
        rows = (np.ascontiguousarray(a[: batch_size * L].reshape(batch_size, L).T) for a in (x, y))
        return tuple(rows)  # (L, B) each, contiguous: windows are plain slices

    def stream(self, train: TrainConfig, start: int = 0) -> Iterator[Batch]:
        per, n = self.steps_per_epoch(train), train.num_steps
        k, cached = start, (-1, None)
        while True:
            epoch, w = divmod(k, per)
            if cached[0] != epoch:
                cached = (epoch, self.epoch_matrix(train.seed, epoch, train.batch_size))
            x, y = cached[1][0][w * n:(w + 1) * n], cached[1][1][w * n:(w + 1) * n]  # (n, B) each
            carry = train.bptt == "truncated" and w > 0
            yield Batch(one_hot(x, 2), y, np.ones(x.shape, np.float32), epoch=epoch, carry=carry)
            k += 1

    def reference_lines(self) -> dict[str, float]:
        return {"no dependency": echo_expected_loss(()), "t-3 only": echo_expected_loss((3,)),
                "both dependencies": echo_expected_loss((3, 8))}


# -- copy and adding (the classic long-memory problems) --------------------------------------
class CopyTask(Task):
    """Copy (Hochreiter & Schmidhuber; Arjovsky et al.): remember ``copy_length`` symbols from 8,
    wait ``copy_delay`` blanks, recall them after the marker. Classes: 0 blank, 1-8, 9 marker::

        input   s1 .. s10  0 ... 0  9  0 ... 0        (length delay + 2 * copy_length)
        target  0  ...  0  0 ... 0  0  s1 .. s10
    """

    name, loss, input_size, output_size = "copy", "cross_entropy", 10, 10

    def max_length(self) -> int:
        return self.config.copy_delay + 2 * self.config.copy_length

    def sequences(self, rng, n, pad_to=None):
        k, T = self.config.copy_length, self.max_length()
        symbols = rng.integers(1, 9, size=(k, n))  # (k, n)
        x = np.zeros((T, n), np.int64)  # (T, n)
        y = np.zeros((T, n), np.int64)  # (T, n)
        x[:k], x[T - k - 1], y[T - k:] = symbols, 9, symbols
        return one_hot(x, 10), y, np.ones((T, n), np.float32)  # (T, n, 10), (T, n), (T, n)

    def reference_lines(self) -> dict[str, float]:
        # memoryless: blanks are certain, each recalled symbol is a guess among 8
        return {"memoryless (chance)": self.config.copy_length * math.log(8) / self.max_length()}


class AddingTask(Task):
    """Adding problem: inputs (value ~ U(0, 1), marker); the target at the last step is the sum
    of the two marked values, one in each half. Only the last step counts."""

    name, input_size, output_size = "adding", 2, 1

    def max_length(self) -> int:
        return self.config.adding_length

    def sequences(self, rng, n, pad_to=None):
        T = self.config.adding_length
        values = rng.random((T, n)).astype(np.float32)  # (T, n)
        first, second = rng.integers(0, T // 2, n), rng.integers(T // 2, T, n)  # (n,) each
        marks = np.zeros((T, n), np.float32)  # (T, n)
        marks[first, np.arange(n)] = marks[second, np.arange(n)] = 1.0
        targets = np.zeros((T, n, 1), np.float32)  # (T, n, 1)
        targets[-1, :, 0] = (values * marks).sum(0)
        mask = np.zeros((T, n), np.float32)  # (T, n)
        mask[-1] = 1.0
        return np.stack([values, marks], -1), targets, mask  # (T, n, 2), (T, n, 1), (T, n)

    def reference_lines(self) -> dict[str, float]:
        return {"predict 1 (chance)": 2 * (1 / 12)}  # Var(u1 + u2) for u ~ U(0, 1)


TASKS: dict[str, type[Task]] = {"cumsum": CumsumTask, "echo": EchoTask, "copy": CopyTask, "adding": AddingTask}


def make_task(config: TaskConfig) -> Task:
    return TASKS[config.name](config)
