"""The recurrent model: stacked cells and a linear readout, runnable three ways on the same
parameters (``model.rnn`` is the fused torch module; the other paths read its weights):

- ``scan``:   each layer is ``scan(step, state_0, xp)`` on the core primitive; every per-step
              state is available (probe plots, gradient flow via ``watch=True``).
- ``fused``:  ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` (cuDNN on a GPU).
- ``manual``: vanilla / ReLU with hand-written BPTT (:mod:`.bptt`) in torch ops.
- ``numba``:  every cell with hand-written BPTT compiled by numba (:mod:`.fast`), CPU only; the
              fastest CPU path (bench/vs_jax.py), and its backward measures gradient flow for free
              (``watch=True`` gives per layer the (T,) tensor |dL/dh_t|, filled by ``backward()``).

States are a tuple over layers of ``h`` (B, H), or ``(h, c)`` for the LSTM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, FieldProblem
from ..scan import scan
from .bptt import ManualRNNLayer
from .cells import CELLS, Cell, init_weights
from .config import ModelConfig
from .custom_rnn import CustomRNN
from .losses import LOSSES


@dataclass
class ModelOutput:
    outputs: torch.Tensor  # (T, B, O) readout values or logits
    states: torch.Tensor  # (T, B, H) top layer's h_t
    final: tuple  # per layer, the state after the last step (carried by truncated BPTT)
    layer_states: list | None = None  # scan: per layer (T, B, H)
    watched: list | None = None  # watch=True: per layer, the T per-step h_t tensors (grads retained),
    # or (numba) a (T,) tensor that backward() fills with |dL/dh_t|


class RNNModel(nn.Module):
    def __init__(self, config: ModelConfig, input_size: int, output_size: int, loss: str = "mse",
                 generator: torch.Generator | None = None):
        super().__init__()
        self.config, self.loss_kind = config, loss
        self.input_size = input_size
        self.custom = config.cell == "custom"  # a cell written in the expression language: scan path only
        if self.custom:
            self.cell = None
            self.rnn = CustomRNN(config.custom, input_size, config.hidden_size, config.layers, generator)
        else:
            self.cell: Cell = CELLS[config.cell]
            self.rnn = self.cell.fused(input_size, config.hidden_size, config.layers)  # parameters + fused path
        self.readout = nn.Linear(config.hidden_size, output_size)  # (H,) -> (O,) at every step

    def layer_weights(self, k: int) -> tuple[torch.Tensor, ...]:
        r = self.rnn
        return (getattr(r, f"weight_ih_l{k}"), getattr(r, f"weight_hh_l{k}"),
                getattr(r, f"bias_ih_l{k}"), getattr(r, f"bias_hh_l{k}"))

    def zero_state(self, batch: int) -> tuple:
        if self.custom:
            like = self.readout.weight
            return tuple(self.rnn.zero_state(batch, like) for _ in range(self.config.layers))
        like = self.rnn.weight_hh_l0
        return tuple(self.cell.zero_state(batch, self.config.hidden_size, like) for _ in range(self.config.layers))

    def forward(self, inputs: torch.Tensor, state: tuple | None = None, *, backend: str = "fused",
                watch: bool = False, readout: bool = True) -> ModelOutput:
        """``inputs`` (T, B, I) -> :class:`ModelOutput`; ``state`` None = zeros; ``readout=False``
        leaves ``outputs`` None (for a loss that applies the readout itself: :meth:`loss`)."""
        if watch and backend not in ("scan", "numba"):
            raise ValueError("watch=True (gradient flow) needs the scan or numba backend")
        run = _run_custom if self.custom else RUNNERS[backend]  # a custom cell runs on the scan path only
        top, final, layer_states, watched = run(self, inputs, state, watch)
        return ModelOutput(self.readout(top) if readout else None, top, final, layer_states, watched)  # (T, B, O)

    def fuses_loss(self, backend: str) -> bool:
        """Whether :meth:`loss` fuses the readout into the loss (numba backend, MSE)."""
        return backend == "numba" and self.loss_kind == "mse"

    def loss(self, out: ModelOutput, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The task's masked loss of ``out``; without outputs (``readout=False``), readout and MSE as
        one compiled node (:mod:`.fast.loss`), the same number as ``LOSSES[loss](outputs, ...)``."""
        if out.outputs is None:
            from .fast.loss import readout_mse

            return readout_mse(out.states, self.readout, targets, mask)  # ()
        return LOSSES[self.loss_kind](out.outputs, targets, mask)  # ()


def _stack(model: RNNModel, x: torch.Tensor, state: tuple | None, watch: bool, run_layer):
    """Layers one after another on the core scan: ``run_layer(k, inputs, state, kept)`` ->
    (final state, hs (T, B, H)); ``kept`` collects each h_t (grads retained) when ``watch``."""
    state = state if state is not None else model.zero_state(x.shape[1])
    inp, finals, layer_states, watched = x, [], [], [] if watch else None
    for k in range(model.config.layers):
        kept = [] if watch else None
        final, hs = run_layer(k, inp, state[k], kept)  # hs (T, B, H)
        finals.append(final)
        layer_states.append(hs)
        if watch:
            watched.append(kept)
        inp = hs
    return inp, tuple(finals), layer_states, watched


def _run_scan(model: RNNModel, x: torch.Tensor, state: tuple | None, watch: bool):
    cell = model.cell

    def run_layer(k, inp, state_k, kept):
        w_ih, w_hh, b_ih, b_hh = model.layer_weights(k)
        xp = cell.project(inp, w_ih, b_ih, b_hh)  # (T, B, G*H)
        w_t = w_hh.t()  # (H, G*H)

        def step(carry, xp_t):
            new = cell.step(carry, xp_t, w_t, b_hh)  # (B, H) or ((B, H), (B, H))
            if kept is not None:
                cell.top(new).retain_grad()  # dL/dh_t lands here: paths via readout and later steps
                kept.append(cell.top(new))
            return new, cell.top(new)

        return scan(step, state_k, xp)

    return _stack(model, x, state, watch, run_layer)


def _run_custom(model: RNNModel, x: torch.Tensor, state: tuple | None, watch: bool):
    return _stack(model, x, state, watch, model.rnn.run_layer)


def _run_fused(model: RNNModel, x: torch.Tensor, state: tuple | None, watch: bool):
    if state is None:
        hx = None
    elif model.cell.two_states:
        hx = (torch.stack([s[0] for s in state]), torch.stack([s[1] for s in state]))  # (L, B, H) x2
    else:
        hx = torch.stack(state)  # (L, B, H)
    out, h_n = model.rnn(x, hx)  # (T, B, H), (L, B, H) or a pair
    final = tuple(zip(h_n[0].unbind(0), h_n[1].unbind(0))) if model.cell.two_states else tuple(h_n.unbind(0))
    return out, final, None, None


def _run_manual(model: RNNModel, x: torch.Tensor, state: tuple | None, watch: bool):
    state = state if state is not None else model.zero_state(x.shape[1])
    relu, inp, finals = model.cell.name == "relu", x, []
    for k in range(model.config.layers):
        inp = ManualRNNLayer.apply(inp, state[k], *model.layer_weights(k), relu)  # (T, B, H)
        finals.append(inp[-1])
    return inp, tuple(finals), None, None


def _run_numba(model: RNNModel, x: torch.Tensor, state: tuple | None, watch: bool):
    from .fast.layer import run_layer

    state = state if state is not None else model.zero_state(x.shape[1])
    inp, finals, layer_states, flows = x, [], [], []
    for k in range(model.config.layers):
        flow = x.new_zeros(x.shape[0])  # (T,) |dL/dh_t|, written by the backward
        inp, final = run_layer(model.cell.name, inp, state[k], model.layer_weights(k), flow)  # (T, B, H)
        finals.append(final)
        layer_states.append(inp)
        flows.append(flow)
    return inp, tuple(finals), layer_states, flows if watch else None


RUNNERS = {"scan": _run_scan, "fused": _run_fused, "manual": _run_manual, "numba": _run_numba}


# auto picks numba on a CPU up to this (hidden size, batch * hidden), per cell; beyond it torch's
# paths (MKL; oneDNN's LSTM at hidden >= 512) win or nothing was measured. bench/auto_limits.py:
# the fused step (fast.step) against manual / nn.GRU / nn.LSTM, Adam, length 50, one thread, on
# this project's 2-core CPU, numba / torch steps/s:
#   vanilla  B1 H256 4.55, B16 H256 1.93, B64 H1024 1.15, B128 H512 1.32 (every size measured wins)
#   gru      B1 H256 5.96, B64 H256 1.54, B64 H1024 1.43, B128 H512 1.27 (every size measured wins)
#   lstm     B1 H256 1.96, B64 H256 1.52, B128 H256 1.30; H512: B1 1.10, B16 0.86, B64 0.93
NUMBA_LIMITS = {"vanilla": (1024, 65536), "relu": (1024, 65536), "gru": (1024, 65536), "lstm": (256, 32768)}


def numba_fits(cell: str, batch: int, hidden: int) -> bool:
    """Whether ``auto`` picks numba for this size on a CPU (:data:`NUMBA_LIMITS`)."""
    max_hidden, max_work = NUMBA_LIMITS[cell]
    return hidden <= max_hidden and batch * hidden <= max_work


def resolve_backend(config: ModelConfig, device: torch.device, batch: int = 1) -> str:
    """The backend for ordinary steps: ``auto`` = fused on a GPU (cuDNN); on a CPU numba where it
    is installed and the size is within NUMBA_LIMITS[cell], else manual for vanilla / relu and fused
    for the gated cells. ``numba`` asked for where it cannot run is a ConfigError naming model.backend."""
    from . import fast

    if config.cell == "custom":
        return "scan"  # a cell written in the expression language runs on the core scan
    if config.backend == "numba" and (device.type != "cpu" or not fast.AVAILABLE):
        why = f"it runs on the CPU only and this run is on {device}" if device.type != "cpu" else \
            fast.why_unavailable()
        raise ConfigError(FieldProblem("model.backend", f"is numba, but {why}; choose auto"))
    if config.backend != "auto":
        return config.backend
    if device.type != "cpu":
        return "fused"
    if fast.AVAILABLE and numba_fits(config.cell, batch, config.hidden_size):
        return "numba"
    return "manual" if config.cell in ("vanilla", "relu") else "fused"


def build_model(config: ModelConfig, input_size: int, output_size: int, loss: str = "mse",
                seed: int = 0) -> RNNModel:
    """A model with seeded initial weights (on the CPU; move it with ``.to(device)``)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # torch's default init draws from the global generator
        gen = torch.Generator().manual_seed(seed)
        if config.cell == "custom":  # its parameters draw from gen first, in their listed order, then the readout
            model = RNNModel(config, input_size, output_size, loss, generator=gen)
            init_weights(None, model.readout, None, config.init_scale, gen)
            return model
        model = RNNModel(config, input_size, output_size, loss)
        init_weights(model.rnn, model.readout, model.cell, config.init_scale, gen)
    return model


def detach_state(state: Any) -> Any:
    """The carried state without its graph: truncated BPTT stops gradients at window edges."""
    if isinstance(state, tuple):
        return tuple(detach_state(s) for s in state)
    return state.detach()
