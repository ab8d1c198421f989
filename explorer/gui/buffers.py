"""Where reports land on the GUI thread: append-only columns that keep every point.

Plots read views of these arrays on their timer and downsample for the eye only; the
buffers themselves never drop a point (a long run is a few MB). Capacity doubles, so
appending is amortised O(1) and a view never copies.
"""

from __future__ import annotations

import numpy as np


class Series:
    """Columns of float64 sharing one length: ``series.append(step=1, loss=0.5)``."""

    def __init__(self, *columns: str, capacity: int = 1024):
        self.columns = columns
        self._data = {c: np.full(capacity, np.nan) for c in columns}
        self.size = 0
        self.version = 0  # bumped by every change: plots redraw only when it moved

    def append(self, **values: float | None) -> None:
        if self.size == len(self._data[self.columns[0]]):
            self._grow()
        i = self.size
        for name, value in values.items():
            self._data[name][i] = np.nan if value is None else value
        self.size += 1
        self.version += 1

    def _grow(self) -> None:
        for name, column in self._data.items():
            bigger = np.full(2 * len(column), np.nan)
            bigger[: len(column)] = column
            self._data[name] = bigger

    def __getitem__(self, name: str) -> np.ndarray:
        """A view of the filled part of one column."""
        return self._data[name][: self.size]

    def __len__(self) -> int:
        return self.size

    def clear(self) -> None:
        for column in self._data.values():
            column[: self.size] = np.nan
        self.size = 0
        self.version += 1

    def rows(self):
        """(column name, ...) then one tuple per row: for CSV export."""
        yield self.columns
        for i in range(self.size):
            yield tuple(self._data[c][i] for c in self.columns)


class Grid:
    """Rows of a 2-d image that grows downwards (one row per training step measured) and
    sideways (the widest row so far); short rows are padded with NaN."""

    def __init__(self, capacity: int = 256):
        self._data = np.full((capacity, 1), np.nan)
        self.steps = np.full(capacity, np.nan)
        self.size = 0
        self.width = 0
        self.version = 0

    def append(self, step: int, row: np.ndarray) -> None:
        row = np.asarray(row, dtype=float).ravel()
        if self.size == self._data.shape[0] or len(row) > self._data.shape[1]:
            self._resize(max(self._data.shape[0] * (2 if self.size == self._data.shape[0] else 1), 1),
                         max(self._data.shape[1], len(row)))
        self._data[self.size, : len(row)] = row
        self.steps[self.size] = step
        self.width = max(self.width, len(row))
        self.size += 1
        self.version += 1

    def _resize(self, rows: int, cols: int) -> None:
        data = np.full((rows, cols), np.nan)
        data[: self._data.shape[0], : self._data.shape[1]] = self._data
        steps = np.full(rows, np.nan)
        steps[: len(self.steps)] = self.steps
        self._data, self.steps = data, steps

    @property
    def image(self) -> np.ndarray:
        """(rows so far, widest row) view."""
        return self._data[: self.size, : self.width]

    def clear(self) -> None:
        self._data[:] = np.nan
        self.steps[:] = np.nan
        self.size = self.width = 0
        self.version += 1
