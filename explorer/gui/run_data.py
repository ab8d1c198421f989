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
        self.inside = None  # the latest probe's Inside (units, gates, PCA; eigenvalues when measured)
        self.eigen = None  # (step, eigenvalues, spectral radius) of the latest measurement
        self.inside_history = Series("step", "spectral_radius", "saturation")  # one row per probe
        self.reference_lines: dict[str, float] = {}
        self.last = None  # the latest full report
        self.generation = getattr(self, "generation", 0)  # counts clears: which run this is

    def clear(self) -> None:
        generation = self.generation + 1
        self.__init__()
        self.generation = generation

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
                inside = r.probe.inside
                if inside is not None:
                    self.inside = inside
                    if inside.eigenvalues is not None:
                        self.eigen = (r.step, inside.eigenvalues, inside.spectral_radius)
                    self.inside_history.append(step=r.step, spectral_radius=_num(inside.spectral_radius),
                                               saturation=_num(inside.saturation))

    def divergence(self) -> str | None:
        """Why these curves look diverged though every value is finite, or None: the loss
        ended far above where it started, or the held-out loss ended 1,000x above the task's
        reference and had not come down."""
        loss, ema = self.scalars["loss"], self.scalars["loss_ema"]
        start = loss[np.isfinite(loss)][:10]
        end = ema[np.isfinite(ema)][-1:]
        if start.size and end.size and end[0] > 100 * max(float(np.median(start)), 1e-12):
            return (f"the loss diverged: it ended at {end[0]:.4g} (EMA), over 100x where it started "
                    f"({float(np.median(start)):.4g}); lower the learning rate or clip the gradients")
        held = self.heldout["heldout_loss"]
        held = held[np.isfinite(held)]
        reference = max(self.reference_lines.values(), default=None)
        if held.size >= 2 and reference and held[-1] > 1e3 * reference and held[-1] >= held[0]:
            return (f"the held-out loss diverged: {held[-1]:.4g}, 1,000x above the task's reference "
                    f"{reference:.4g} and not falling; lower the learning rate or clip the gradients")
        return None

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
