"""Metrics files: one CSV schema, generated from :class:`StepReport`'s scalar fields, shared by
every writer (the run store, ``train --out``, the window's CSV export).

Crash safety. A row is one whole line written with one ``os.write`` on an ``O_APPEND`` file
descriptor, so a process killed with -9 leaves either the whole row or none of it; a torn
last line (power loss, a full disk) has no newline and the reader ignores it. Rows are
strictly increasing in ``step``: the writer drops a report whose step is not past the last
row, and reopening to continue from a checkpoint (``after_step=``) first rewrites the file
without the rows past that step (a temp file unique to this writer, then ``os.replace``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
import typing
import warnings
from pathlib import Path

import numpy as np

from .reports import StepReport

_SCALAR_TYPES = (int, float, int | None, float | None, typing.Optional[int], typing.Optional[float])


def _scalar_columns() -> tuple[str, ...]:
    """StepReport's int / float fields in declaration order (bools, text, arrays and dicts left out)."""
    hints = typing.get_type_hints(StepReport)
    return tuple(f.name for f in dataclasses.fields(StepReport) if hints[f.name] in _SCALAR_TYPES)


METRIC_COLUMNS: tuple[str, ...] = _scalar_columns()  # step, epoch, total_steps, loss, loss_ema, lr, ...
HEADER = ",".join(METRIC_COLUMNS) + "\n"


def format_cell(value) -> str:
    """A CSV cell: blank for None, ints as ints, floats as repr (round trip; nan / inf spelled out)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def format_row(values: typing.Mapping, columns: typing.Sequence[str] = METRIC_COLUMNS) -> str:
    """One whole CSV line (newline included) of ``values`` by column name; absent = blank."""
    return ",".join(format_cell(values.get(c)) for c in columns) + "\n"


def report_row(report: StepReport) -> str:
    return ",".join(format_cell(getattr(report, c)) for c in METRIC_COLUMNS) + "\n"


# -- reading -------------------------------------------------------------------------------
def parse_metrics(text: str, columns: typing.Sequence[str] = METRIC_COLUMNS,
                  header: typing.Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Columns of a metrics CSV text as float arrays (NaN where blank). The header names the
    columns (an older file with fewer columns reads as NaN for the new ones); a line without
    its newline (torn) or with the wrong number of cells is ignored. ``header``: the text has
    no header line (a tail of a file whose header was read before)."""
    lines = text.split("\n")
    if header is None:
        if len(lines) < 2:  # no complete header line
            return {c: np.empty(0) for c in columns}
        header, lines = lines[0].strip().split(","), lines[1:]
    return _table(lines[:-1], list(header), columns)  # lines[-1]: "" after the last newline, or torn


def _table(body: list[str], header: list[str], columns) -> dict[str, np.ndarray]:
    n = len(header)
    body = [line.rstrip("\r") for line in body]
    good = [line for line in body if line.count(",") == n - 1]
    rows = len(good)
    table = None
    if rows:
        flat = ",".join(good)
        flat = flat.replace(",,", ",nan,").replace(",,", ",nan,")  # blanks; twice for runs of them
        flat = ("nan" if flat.startswith(",") else "") + flat + ("nan" if flat.endswith(",") else "")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # older numpy warns on a bad cell
                values = np.fromstring(flat, sep=",")  # the C parser: nan / inf accepted
            if values.size == rows * n:
                table = values.reshape(rows, n)  # (rows, n)
        except ValueError:  # newer numpy raises on a bad cell
            pass
    if table is None:  # a damaged cell somewhere: the slow, cell-by-cell parse
        table = np.array([[_float(c) for c in line.split(",")] for line in good], dtype=float).reshape(rows, n)
    index = {name: i for i, name in enumerate(header)}
    return {c: table[:, index[c]].copy() if c in index else np.full(rows, np.nan) for c in columns}


def _float(cell: str) -> float:
    try:
        return float(cell) if cell else math.nan
    except ValueError:
        return math.nan


def read_metrics(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a metrics CSV file as float arrays (NaN where blank); empty arrays for no file."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = ""
    return parse_metrics(text)


class MetricsTail:
    """A metrics file read as it grows: each :meth:`read` parses only the whole lines appended
    since the last one (a live run's curves cost what is new, not the whole file). A file
    replaced (a resume rewrote it) or shortened is read again from the start. The arrays
    returned are read-only and shared between calls."""

    def __init__(self, path: str | Path, columns: typing.Sequence[str] = METRIC_COLUMNS):
        self.path, self.columns = Path(path), tuple(columns)
        self._reset(None)

    def _reset(self, key) -> None:
        self._key, self._offset, self._header = key, 0, None
        self._data = {c: _frozen(np.empty(0)) for c in self.columns}

    def read(self) -> dict[str, np.ndarray]:
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            self._reset(None)
            return dict(self._data)
        with fh:
            st = os.fstat(fh.fileno())
            key = (st.st_dev, st.st_ino)
            if key != self._key or st.st_size < self._offset:
                self._reset(key)
            if st.st_size > self._offset:
                fh.seek(self._offset)
                data = fh.read(st.st_size - self._offset)
                end = data.rfind(b"\n")  # whole lines only: a line being written waits for the next read
                if end >= 0:
                    self._offset += end + 1
                    self._append(data[:end + 1].decode("utf-8", errors="replace"))
        return dict(self._data)

    def _append(self, text: str) -> None:
        if self._header is None:
            first, _, text = text.partition("\n")
            self._header = first.strip().split(",")
        if not text:
            return
        new = parse_metrics(text, self.columns, header=self._header)
        self._data = {c: _frozen(np.concatenate([self._data[c], new[c]])) for c in self.columns}


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# -- writing -------------------------------------------------------------------------------
def rewrite(path: str | Path, *, after_step: float | None = None) -> int:
    """Rewrite ``path`` in today's schema keeping only whole rows with step <= ``after_step``
    (all rows when None), strictly increasing; return the last step kept (-1 for none).
    Atomic: a temp file unique to this writer, fsynced, then ``os.replace``."""
    path = Path(path)
    data = read_metrics(path)
    steps = data["step"]
    keep, last = [], -math.inf
    for i, step in enumerate(steps):
        if math.isfinite(step) and step > last and (after_step is None or step <= after_step):
            keep.append(i)
            last = step
    lines = [HEADER]
    for i in keep:
        lines.append(format_row({c: _cell_value(data[c][i]) for c in METRIC_COLUMNS}))
    atomic_write_text(path, "".join(lines))
    return int(last) if keep else -1


def _cell_value(x: float):
    return None if math.isnan(x) else x


def atomic_write_text(path: Path, text: str, *, fsync: bool = True) -> None:
    """Write ``text`` to ``path`` through a temp file unique to this writer (pid + random)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class MetricsWriter:
    """Append full reports to a metrics CSV, one whole line per ``os.write``.

    ``append=False`` starts a fresh file (replacing any old one atomically). ``append=True``
    continues an existing file: rows past ``after_step`` are dropped first (resuming from a
    checkpoint at that step), a torn last line is cut, and an older schema is rewritten.
    """

    def __init__(self, path: str | Path, append: bool = False, *, after_step: int | None = None):
        self.path, self._fd = Path(path), None
        if append and self.path.is_file():
            self.last_step = rewrite(self.path, after_step=after_step)
        else:
            atomic_write_text(self.path, HEADER)
            self.last_step = -1
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))

    def write(self, report: StepReport) -> bool:
        """Append ``report`` if it is full and past the last row; True when a row was written."""
        if not report.full or report.step <= self.last_step:
            return False
        data = report_row(report).encode("utf-8")
        written = os.write(self._fd, data)  # one write: the whole line or (killed before it) nothing
        if written != len(data):  # a full disk: never leave half a row followed by the next one
            raise OSError(f"{self.path}: short write ({written} of {len(data)} bytes); is the disk full?")
        self.last_step = report.step
        return True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
