"""Seeing inside a recurrent model on the probe sequence, as plain numpy (source 000's first
question, "how many hidden units are needed?", is best answered by looking at what they do).

From the probe's inputs and every layer's h_t, and the model's weights (PyTorch's layout,
gates stacked along dim 0 of ``weight_ih_l{k}`` / ``weight_hh_l{k}``):

- ``units``: the top layer's h_t, (H, T), and ``order``: units sorted by variance over time;
- ``gates``: for GRU (r, z, n) and LSTM (i, f, g, o), each gate over time, (H, T), of the top
  layer, recomputed from x_t and h_{t-1} (no cell state needed: no gate reads c), and
  ``saturation``: the share of sigmoid-gate values under 0.05 or over 0.95;
- ``pca``: the trajectory of h_t in its first two principal components, (T, 2), with the share
  of variance each explains;
- ``eigenvalues``: of the top layer's recurrent matrix (vanilla / ReLU: W_hh; GRU: its candidate
  block W_hn; LSTM: its cell-input block W_hg), complex (H,), and ``spectral_radius``.

A custom cell (``cell == "custom"``, its top layer's parameters by their own names) gets units,
order and PCA; eigenvalues when exactly one of its parameters is H x H (its recurrent matrix;
``h_tm1 @ W`` or ``W @ h``, the eigenvalues are the same), or, with no H x H parameter, exactly
one of shape (H,) that multiplies ``h_tm1`` elementwise (a diagonal recurrence, IndRNN's ``u``);
no gates (which of its expressions are gates is not known).

Eigenvalues cost O(H^3): :class:`InsideMeter` throttles them so they take at most a few per
cent of training time; between measurements ``eigenvalues`` is None (keep the last ones).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

GATES = {"gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}  # PyTorch's order along dim 0
SIGMOID_GATES = {"gru": ("r", "z"), "lstm": ("i", "f", "o")}
RECURRENT_BLOCK = {"vanilla": 0, "relu": 0, "gru": 2, "lstm": 2}  # the block whose eigenvalues we show
SATURATED = (0.05, 0.95)  # a sigmoid gate below / above these is effectively shut / open


@dataclass(slots=True)
class Inside:
    units: np.ndarray  # (H, T) top layer's h_t, unit by unit
    order: np.ndarray  # (H,) unit indices, highest variance over time first
    pca: np.ndarray  # (T, 2) h_t projected on its first two principal components
    pca_explained: np.ndarray  # (2,) share of the variance each component explains
    gates: dict[str, np.ndarray] | None = None  # gate name -> (H, T); GRU and LSTM only
    saturation: float | None = None  # share of sigmoid-gate values < 0.05 or > 0.95
    eigenvalues: np.ndarray | None = None  # (H,) complex, of the recurrent block; None = not measured
    spectral_radius: float | None = None  # max |eigenvalue|


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # overflow-free logistic


def gates_over_time(cell: str, x: np.ndarray, h: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
    """Gate activations of one layer: ``x`` (T, I) its inputs, ``h`` (T, H) its states (h_{-1} = 0)."""
    H = h.shape[1]
    h_prev = np.vstack([np.zeros((1, H), h.dtype), h[:-1]])  # (T, H)
    gi = x @ w_ih.T + b_ih  # (T, G*H)
    gh = h_prev @ w_hh.T + b_hh  # (T, G*H)
    names = GATES[cell]
    xi, hh = np.split(gi, len(names), axis=1), np.split(gh, len(names), axis=1)  # G x (T, H)
    if cell == "gru":
        r = _sigmoid(xi[0] + hh[0])  # (T, H)
        z = _sigmoid(xi[1] + hh[1])
        n = np.tanh(xi[2] + r * hh[2])
        out = {"r": r, "z": z, "n": n}
    else:
        out = {name: (np.tanh if name == "g" else _sigmoid)(a + b) for name, a, b in zip(names, xi, hh)}
    return {k: v.T for k, v in out.items()}  # (H, T) each


def saturation(cell: str, gates: dict[str, np.ndarray]) -> float:
    values = np.concatenate([gates[g].ravel() for g in SIGMOID_GATES[cell]])
    lo, hi = SATURATED
    return float(np.mean((values < lo) | (values > hi)))


def pca_2d(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, H) -> (T, 2) projection on the first two principal components, and their variance shares."""
    centred = states - states.mean(0, keepdims=True)  # (T, H)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)  # s (k,), vt (k, H)
    k = min(2, vt.shape[0])
    proj = np.zeros((states.shape[0], 2), states.dtype)
    proj[:, :k] = centred @ vt[:k].T
    total = float((s ** 2).sum())
    explained = np.zeros(2)
    explained[:k] = (s[:k] ** 2) / total if total > 0 else 0.0
    return proj, explained


def recurrent_block(cell: str, w_hh: np.ndarray) -> np.ndarray:
    H = w_hh.shape[1]
    k = RECURRENT_BLOCK[cell]
    return w_hh[k * H:(k + 1) * H]  # (H, H)


def custom_recurrence(params: dict[str, np.ndarray], H: int, expressions=()) -> np.ndarray | None:
    """A custom cell's recurrent matrix, (H, H), as the module docstring says; None if not clear."""
    square = [w for w in params.values() if w.shape == (H, H)]
    if len(square) == 1:
        return np.asarray(square[0], np.float64)
    if square:
        return None
    text = " ".join(expressions)
    diagonal = [name for name, w in params.items() if w.shape == (H,)
                and re.search(rf"\b{re.escape(name)}\s*\*\s*h_tm1\b|\bh_tm1\s*\*\s*{re.escape(name)}\b", text)]
    return np.diag(np.asarray(params[diagonal[0]], np.float64)) if len(diagonal) == 1 else None


def look_inside(cell: str, weights: dict[str, np.ndarray], inputs: np.ndarray, layer_states: np.ndarray,
                eigen: bool = True, expressions=()) -> Inside:
    """Everything in the module docstring for the top layer. ``weights``: the fused module's
    parameters by name (``weight_ih_l0`` ...), or a custom cell's top-layer parameters by their
    names (with its ``expressions``); ``inputs`` (T, I); ``layer_states`` (L, T, H)."""
    L = layer_states.shape[0]
    top = layer_states[-1].astype(np.float64)  # (T, H)
    k = L - 1
    order = np.argsort(-top.var(axis=0), kind="stable")  # (H,)
    proj, explained = pca_2d(top)
    inside = Inside(top.T.copy(), order, proj, explained)
    if cell in RECURRENT_BLOCK:  # a built-in cell, PyTorch's fused layout
        w = [np.asarray(weights[f"{p}_l{k}"], np.float64) for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        if cell in GATES:
            below = np.asarray(inputs if k == 0 else layer_states[k - 1], np.float64)  # (T, I or H)
            inside.gates = gates_over_time(cell, below, top, *w)
            inside.saturation = saturation(cell, inside.gates)
        matrix = recurrent_block(cell, w[1]) if eigen else None
    else:  # a custom cell
        matrix = custom_recurrence(weights, top.shape[1], expressions) if eigen else None
    if matrix is not None:
        inside.eigenvalues = np.linalg.eigvals(matrix)
        inside.spectral_radius = float(np.abs(inside.eigenvalues).max())
    return inside


class InsideMeter:
    """``look_inside`` on probe steps, with the eigenvalues throttled: after a measurement that
    took d seconds, the next waits at least d / share seconds, so they cost at most ``share`` of
    the wall clock. Between measurements ``eigenvalues`` and ``spectral_radius`` are None."""

    def __init__(self, cell: str, share: float = 0.02, expressions=()):
        self.cell, self.share, self.expressions = cell, share, tuple(expressions)
        self._next_at = 0.0

    def measure(self, weights: dict[str, np.ndarray], inputs: np.ndarray, layer_states: np.ndarray) -> Inside:
        now = time.perf_counter()
        due = now >= self._next_at
        inside = look_inside(self.cell, weights, inputs, layer_states, eigen=due, expressions=self.expressions)
        if due:
            self._next_at = now + (time.perf_counter() - now) / self.share
        return inside
