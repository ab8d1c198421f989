"""What the training generator yields: plain Python numbers and numpy arrays, never tensors,
so a report can cross threads and be drawn, logged or pickled as is."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

RUNNING, FINISHED, NONFINITE, STOPPED = "running", "finished", "nonfinite", "stopped"
DIVERGED = "diverged"  # finished, but the held-out loss ended far above its start (diagnostics.DIVERGED_FACTOR)


@dataclass(slots=True)
class Probe:
    """The model on the fixed probe sequence (CPU copies)."""

    inputs: np.ndarray  # (T, I)
    targets: np.ndarray  # (T, O); classification: one-hot
    predictions: np.ndarray  # (T, O); classification: class probabilities
    states: np.ndarray  # (T, H) top layer's h_t
    mask: np.ndarray  # (T,) 1 where the target counts
    layer_states: np.ndarray  # (L, T, H) every layer's h_t
    inside: Any = None  # inside.Inside of the top layer: units, gates, PCA, eigenvalues (None: not measured)


@dataclass(slots=True)
class StepReport:
    """One optimisation step. ``full`` reports carry every metric; the others carry only
    ``step``, ``epoch`` and ``total_steps`` (the trainer gathers metrics on reporting steps
    only, as they cost a device sync)."""

    step: int  # optimisation steps done so far (this step included)
    epoch: int = 0  # epoch of this step (0-based; 0 for tasks without epochs)
    total_steps: int | None = None  # planned steps
    full: bool = False  # True: the fields below are filled
    loss: float | None = None  # this step's training loss (masked mean)
    loss_ema: float | None = None  # EMA of the loss, decay 0.99, starting at the first loss
    lr: float | None = None  # learning rate used by this step
    grad_norm: float | None = None  # global gradient norm before clipping
    grad_norm_clipped: float | None = None  # global gradient norm after clipping
    clip_norm: float | None = None  # current clipping threshold (None = off)
    clipped_fraction: float | None = None  # fraction of the steps so far whose gradient was clipped
    param_grad_norms: dict[str, float] | None = None  # per parameter, before clipping
    steps_per_s: float | None = None  # since the previous full report, time inside the trainer
    elapsed_s: float | None = None  # time inside the trainer since the run began (resumes add up)
    heldout_loss: float | None = None  # on evaluation steps: loss on the fixed held-out set
    grad_flow: np.ndarray | None = None  # on flow steps: (T,) |dL/dh_t| of the top layer
    grad_flow_layers: np.ndarray | None = None  # on flow steps: (L, T), every layer
    probe: Probe | None = None  # on probe steps
    done: bool = False  # the last report of the run
    status: str = RUNNING  # running | finished | diverged | nonfinite | stopped
    message: str = ""  # e.g. "step 12: gradient of rnn.weight_hh_l0 became inf (first non-finite tensor)"
    extras: dict = field(default_factory=dict)  # room for later metrics

    def summary(self) -> dict:
        """The scalar fields as a JSON-safe dict (arrays and the probe left out)."""
        skip = {"grad_flow", "grad_flow_layers", "probe", "extras"}
        return {k: v for k, v in asdict(self).items() if k not in skip}


def as_numpy(tensor) -> np.ndarray:
    """A CPU numpy copy (a device sync: reporting steps only)."""
    return tensor.detach().to("cpu", copy=True).numpy()
