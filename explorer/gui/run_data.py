"""Everything a run has reported, as the plots read it (GUI thread only).

Reports arrive in batches from the runner; :meth:`RunData.add` files each field in its
buffer. Every point is kept: the plots downsample for display, and ``to_csv`` writes the
lot.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from explorer.core.lab.metrics import METRIC_COLUMNS, format_row

from .buffers import Grid, Series

SCALARS = ("step", "loss", "loss_ema", "lr", "grad_norm", "grad_norm_clipped", "clip_norm",
           "clipped_fraction", "steps_per_s", "elapsed_s")


class RunData:
    def __init__(self) -> None:
        self.scalars = Series(*SCALARS)
        self.heldout = Series("step", "heldout_loss")
        self.params: Series | None = None  # columns: step + parameter names (made on first report)
        self.flow = Grid()  # rows: flow steps; columns: time steps t; values ||dL/dh_t||
        self.probe = None  # the latest Probe
        self.probe_step = 0
        self.probe_version = 0
        self.reference_lines: dict[str, float] = {}
        self.last = None  # the latest full report

    def clear(self) -> None:
        self.__init__()

    def add(self, reports: list) -> None:
        for r in reports:
            self.last = r
            self.scalars.append(**{k: _num(getattr(r, k)) for k in SCALARS})
            if r.heldout_loss is not None:
                self.heldout.append(step=r.step, heldout_loss=r.heldout_loss)
            if r.param_grad_norms:
                if self.params is None:
                    self.params = Series("step", *r.param_grad_norms)
                self.params.append(step=r.step, **{k: v for k, v in r.param_grad_norms.items()
                                                   if k in self.params.columns})
            if r.grad_flow is not None:
                self.flow.append(r.step, r.grad_flow)
            if r.probe is not None:
                self.probe, self.probe_step = r.probe, r.step
                self.probe_version += 1

    def to_csv(self, path: str | Path) -> None:
        """Every full report in the metrics schema (METRIC_COLUMNS, blank where the window does not
        keep a column), with the per-parameter norms after it, joined on the step."""
        heldout = dict(zip(self.heldout["step"].astype(int), self.heldout["heldout_loss"]))
        param_cols = list(self.params.columns[1:]) if self.params is not None else []
        params = {}
        if self.params is not None:
            for i, step in enumerate(self.params["step"].astype(int)):
                params[step] = {f"grad_norm[{c}]": self.params[c][i] for c in param_cols}
        columns = [*METRIC_COLUMNS, *(f"grad_norm[{c}]" for c in param_cols)]
        with open(path, "w", newline="") as f:
            f.write(",".join(columns) + "\n")
            for i in range(len(self.scalars)):
                row = {c: self.scalars[c][i] for c in SCALARS}
                step = int(row["step"])
                row.update(heldout_loss=heldout.get(step, math.nan), **params.get(step, {}))
                f.write(format_row({k: None if math.isnan(v) else v for k, v in row.items()}, columns))


def _num(value) -> float:
    return math.nan if value is None else float(value)


def finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mask = np.isfinite(y)
    return x[mask], y[mask]
