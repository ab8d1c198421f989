"""Task base: seeded data, a fixed held-out set, a fixed probe sequence and reference lines.

Everything here is numpy, time-major, the layout the scan loops over::

    inputs  (T, B, I)  float32     t = 0 ... T-1 down, one sequence per column b
    targets (T, B, O)  float32     (mse tasks)   or  (T, B) int64 class ids (cross-entropy)
    mask    (T, B)     float32     1 where a target counts (variable lengths are padded)

Each optimisation step gets one :class:`Batch` from :meth:`Task.stream`. Step ``k``'s data
depends only on ``(seed, k)``, so a resumed run sees exactly the batches it would have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .config import TaskConfig, TrainConfig

TRAIN, HELDOUT, PROBE, FAMILY = 0, 1, 2, 3  # purpose tags: train / held-out / probe data never overlap


def rng_for(purpose: int, seed: int, index: int = 0) -> np.random.Generator:
    """An independent generator for (purpose, seed, index): step k's batch is rng_for(TRAIN, seed, k)."""
    return np.random.default_rng([purpose, seed, index])


@dataclass
class Batch:
    """One optimisation step's data (see the module docstring for shapes)."""

    inputs: np.ndarray  # (T, B, I)
    targets: np.ndarray  # (T, B, O) float32 or (T, B) int64
    mask: np.ndarray  # (T, B)
    epoch: int = 0  # epoch this window belongs to (0-based; 0 for tasks without epochs)
    carry: bool = False  # continue from the previous window's final state (truncated BPTT)


class Task:
    """Base: a sequence task that draws ``batch_size`` fresh sequences per batch.

    Subclasses give ``sequences(rng, n, pad_to)``; this class turns them into a stream of
    steps (whole sequences, or windows of ``num_steps`` with the state carried).
    """

    name = "task"
    loss = "mse"  # "mse" or "cross_entropy"
    input_size = 1
    output_size = 1  # regression outputs, or number of classes
    has_epochs = False
    families: tuple[str, ...] = ()  # generalisation families: ``family(name, n, length, seed)``

    def __init__(self, config: TaskConfig):
        self.config = config

    # -- what subclasses give -------------------------------------------------------------
    def sequences(self, rng: np.random.Generator, n: int, pad_to: int | None = None):
        """``n`` fresh sequences: (inputs (T, n, I), targets, mask (T, n))."""
        raise NotImplementedError

    def reference_lines(self) -> dict[str, float]:
        """Loss levels worth drawing as horizontal lines (chance, partial solutions)."""
        return {}

    def max_length(self) -> int:
        return self.sequences(rng_for(PROBE, 0), 1)[0].shape[0]

    # -- derived ---------------------------------------------------------------------------
    def heldout(self):
        """The fixed held-out set (same for every run with the same probe_seed)."""
        return self.sequences(rng_for(HELDOUT, self.config.probe_seed), self.config.heldout_size)

    def probe(self):
        """One fixed sequence to watch during training: (inputs (T, 1, I), targets, mask (T, 1))."""
        return self.sequences(rng_for(PROBE, self.config.probe_seed), 1, pad_to=None)

    def windows_per_batch(self, train: TrainConfig) -> int:
        if train.bptt != "truncated":
            return 1
        return math.ceil(self.max_length() / train.num_steps)

    def steps_per_epoch(self, train: TrainConfig) -> int | None:
        return None

    def total_steps(self, train: TrainConfig) -> int:
        return train.steps if train.steps > 0 else train.epochs * (self.steps_per_epoch(train) or 0)

    def stream(self, train: TrainConfig, start: int = 0) -> Iterator[Batch]:
        """Batches for steps ``start, start+1, ...``.

        full BPTT: step k = batch k (padded to its longest sequence).
        truncated: batch j is padded to max_length and cut into W windows; step k is window
        k % W of batch j = k // W, carrying the state from window k-1 unless it starts a batch.
        """
        per = self.windows_per_batch(train)
        pad = self.max_length() if per > 1 else None
        k, cached = start, (-1, None)
        while True:
            j, w = divmod(k, per)
            if cached[0] != j:
                cached = (j, self.sequences(rng_for(TRAIN, train.seed, j), train.batch_size, pad_to=pad))
            x, y, m = cached[1]
            if per > 1:
                cut = slice(w * train.num_steps, (w + 1) * train.num_steps)
                x, y, m = x[cut], y[cut], m[cut]
            yield Batch(x, y, m, epoch=0, carry=w > 0)
            k += 1


def pad_mask(lengths: np.ndarray, pad_to: int | None) -> np.ndarray:
    T = int(pad_to or lengths.max())
    return (np.arange(T)[:, None] < lengths[None, :]).astype(np.float32)  # (T, n)


def one_hot(ids: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[ids]  # (..., classes)


def entropy(p: float) -> float:
    """Cross-entropy (nats) of a Bernoulli(p) outcome predicted with probability p."""
    return -sum(q * math.log(q) for q in (p, 1 - p) if q > 0)
