"""Recurrent cells as step functions for the core scan, over the parameters of the fused
torch module (``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM``), so both paths share one set of weights.

Each cell splits its update into a time-parallel input projection and a sequential step::

    xp = project(x, W_ih, b_ih, b_hh)     (T, B, I) -> (T, B, G*H)   one matmul for all steps
    state_t = step(state_{t-1}, xp_t, W_hh^T, b_hh)                   scan(step, state_0, xp)

with PyTorch's gate layout and formulas (G = 1 vanilla / relu, 3 GRU (r, z, n), 4 LSTM (i, f, g, o)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn


def _project_folded(x, w_ih, b_ih, b_hh):
    T, B, I = x.shape
    return torch.addmm(b_ih + b_hh, x.reshape(T * B, I), w_ih.t()).view(T, B, -1)  # (T, B, G*H)


def _project_input_bias(x, w_ih, b_ih, b_hh):
    T, B, I = x.shape
    return torch.addmm(b_ih, x.reshape(T * B, I), w_ih.t()).view(T, B, -1)  # (T, B, 3H): b_hh stays inside r * (.)


def vanilla_step(h, xp, w_hh_t, b_hh):
    return torch.tanh(torch.addmm(xp, h, w_hh_t))  # (B, H) = tanh(x W_ih^T + b + h W_hh^T)


def relu_step(h, xp, w_hh_t, b_hh):
    return torch.relu(torch.addmm(xp, h, w_hh_t))  # (B, H)


def gru_step(h, xp, w_hh_t, b_hh):
    gh = torch.addmm(b_hh, h, w_hh_t)  # (B, 3H)
    x_r, x_z, x_n = xp.chunk(3, -1)  # (B, H) each
    h_r, h_z, h_n = gh.chunk(3, -1)  # (B, H) each
    r = torch.sigmoid(x_r + h_r)  # (B, H) reset gate
    z = torch.sigmoid(x_z + h_z)  # (B, H) update gate
    n = torch.tanh(x_n + r * h_n)  # (B, H) candidate
    return n + z * (h - n)  # (B, H) = (1 - z) * n + z * h


def lstm_step(state, xp, w_hh_t, b_hh):
    h, c = state  # (B, H) each
    gates = torch.addmm(xp, h, w_hh_t)  # (B, 4H)
    i, f, g, o = gates.chunk(4, -1)  # (B, H) each
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (B, H)
    return torch.sigmoid(o) * torch.tanh(c), c  # (B, H), (B, H)


@dataclass(frozen=True)
class Cell:
    name: str
    fused: Callable[[int, int, int], nn.Module]  # (input_size, hidden, layers) -> torch module
    project: Callable  # (x, W_ih, b_ih, b_hh) -> xp (T, B, G*H)
    step: Callable  # (state, xp_t, W_hh^T, b_hh) -> state
    two_states: bool = False  # LSTM: the state is (h, c)
    identity_hh: bool = False  # ReLU RNN: W_hh starts as the identity (Le et al., 2015)

    def zero_state(self, batch: int, hidden: int, like: torch.Tensor) -> Any:
        h = like.new_zeros(batch, hidden)  # (B, H)
        return (h, h.clone()) if self.two_states else h

    def top(self, state: Any) -> torch.Tensor:
        """The hidden output h of a state."""
        return state[0] if self.two_states else state


CELLS: dict[str, Cell] = {
    "vanilla": Cell("vanilla", lambda i, h, n: nn.RNN(i, h, n, nonlinearity="tanh"), _project_folded, vanilla_step),
    "relu": Cell("relu", lambda i, h, n: nn.RNN(i, h, n, nonlinearity="relu"), _project_folded, relu_step,
                 identity_hh=True),
    "gru": Cell("gru", lambda i, h, n: nn.GRU(i, h, n), _project_input_bias, gru_step),
    "lstm": Cell("lstm", lambda i, h, n: nn.LSTM(i, h, n), _project_folded, lstm_step, two_states=True),
}


def init_weights(module: nn.Module, readout: nn.Linear, cell: Cell, scale: float,
                 generator: torch.Generator) -> None:
    """Weights uniform in [-scale, scale] and biases 0 (source 000); scale 0 keeps torch's
    default init. The ReLU cell's W_hh starts as the identity either way."""
    with torch.no_grad():
        if scale > 0:
            own = list(module.named_parameters()) if module is not None else []  # None: a custom cell's own init
            for name, p in own + [("weight", readout.weight), ("bias", readout.bias)]:
                if name.startswith("weight"):
                    p.uniform_(-scale, scale, generator=generator)
                else:
                    p.zero_()
        if cell is not None and cell.identity_hh:
            for name, p in module.named_parameters():
                if name.startswith("weight_hh"):
                    p.copy_(torch.eye(p.shape[0]))
                elif name.startswith("bias"):
                    p.zero_()
