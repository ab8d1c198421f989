"""A whole training step without torch's autograd or optimizer: forward through every layer,
readout and masked MSE, backward (:func:`.layer.forward` / :func:`.layer.backward`, the same
per-layer kernel calls as the autograd nodes, layer by layer), then one compiled
call (:func:`finish`) for the per-tensor gradient norms (float64, so they never overflow), the
non-finite check, global-norm clipping and the Adam / SGD update, on one flat parameter buffer.

The Trainer's numba steps go through it (:class:`FusedStep`): the per-op dispatch of torch's
autograd, optimizer and norm ops (half of a small model's step on a CPU, bench/vs_jax.py) is
gone; the arithmetic is the numba backend's own, and the tests hold the two paths equal.
(One compiled function for the whole step was tried: LLVM re-optimises every kernel inside it,
15 s more on a first run, for ~40 us a step.) The kernels release the GIL.

The model's parameters, their ``.grad`` and the optimizer's Adam state stay ordinary tensors
for everything else (checkpoints, snapshots, probes, the non-finite search): they are views
into the flat buffers, re-bound whenever something replaced them (a loaded optimizer state).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from numba import njit

from . import kernels as K
from .blas import match_torch_threads
from .layer import backward, forward
from .loss import _readout_mse

OK, NONFINITE = 0, 1


@njit(cache=True, error_model="numpy", fastmath=K.FAST, nogil=True)
def finish(loss, grad, offs, norms, clip, adam, lr, beta1, beta2, eps, flat, mu, nu, steps):
    """After the backward: per-parameter norms (float64: a float32 sum of squares overflows on
    finite gradients past 1.8e19), the non-finite check, global-norm clipping (Pascanu et al.),
    then the Adam or SGD update. Parameter k is flat[offs[k]:offs[k+1]] (grad, mu, nu alike);
    steps (P,) Adam's step counts. Returns (status, total norm); NONFINITE updates nothing."""
    P = offs.shape[0] - 1
    one = np.ones(1, grad.dtype)[0]
    total = 0.0
    for p in range(P):
        s = 0.0
        for j in range(offs[p], offs[p + 1]):
            v = np.float64(grad[j])
            s += v * v
        norms[p] = math.sqrt(s)
        total += s
    total = math.sqrt(total)
    if not (math.isfinite(loss) and math.isfinite(total)):
        return NONFINITE, total
    n = offs[P]
    if clip > 0.0:
        coef = min(1.0, clip / (total + 1e-6))
        if coef < 1.0:
            c = one * coef
            for j in range(n):
                grad[j] *= c
    if adam:  # torch's fused Adam: the same formulas, float32 arithmetic, float64 scalars
        a1, a2, b2, e = one * (1.0 - beta1), one * (1.0 - beta2), one * beta2, one * eps
        for p in range(P):
            steps[p] += 1
            t = np.float64(steps[p])
            step_size = one * (lr / (1.0 - beta1 ** t))
            bc2 = one * math.sqrt(1.0 - beta2 ** t)
            for j in range(offs[p], offs[p + 1]):
                g = grad[j]
                mu[j] += a1 * (g - mu[j])
                nu[j] = b2 * nu[j] + a2 * g * g
                flat[j] -= step_size * mu[j] / (math.sqrt(nu[j]) / bc2 + e)
    else:
        r = one * lr
        for j in range(n):
            flat[j] -= r * grad[j]
    return OK, total


@dataclass
class StepResult:
    ok: bool
    loss: float
    norm: float  # the global gradient norm, before clipping
    norms: np.ndarray  # (P,) per-parameter norms, before clipping
    clipped: bool
    final: tuple  # per layer h (B, H) or (h, c): the carried state for truncated BPTT
    flows: list | None  # per layer (T,) |dL/dh_t| tensors, on flow steps


def why_not(model, optimizer, device: torch.device, backend: str) -> str:
    """'' when :class:`FusedStep` can run this model and optimizer, else why not."""
    group = optimizer.param_groups[0]
    if backend != "numba" or device.type != "cpu":
        return "the numba backend on a CPU only"
    if model.custom or model.loss_kind != "mse":
        return "built-in cells with the MSE loss only"
    if len(optimizer.param_groups) != 1 or type(optimizer) not in (torch.optim.Adam, torch.optim.SGD):
        return "Adam or SGD with one parameter group only"
    if group.get("weight_decay") or group.get("maximize") or group.get("momentum") or group.get("amsgrad") \
            or group.get("decoupled_weight_decay"):
        return "plain Adam or momentum-free SGD only"
    if any(p.dtype != torch.float32 for p in model.parameters()):
        return "float32 parameters only"
    return ""


class FusedStep:
    """``step(x, y, m, state, lr, clip, flow)`` -> :class:`StepResult`: what forward,
    ``loss.backward()``, ``grad_norms``, ``clip_`` and the optimizer's step do, in compiled calls."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.params = list(model.parameters())
        self.adam = type(optimizer) is torch.optim.Adam
        c = model.config
        self.cell, self.L, self.H = c.cell, c.layers, c.hidden_size
        sizes = [p.numel() for p in self.params]
        self.offs = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)  # (P+1,)
        n = int(self.offs[-1])
        self.flat, self.grad = torch.empty(n), torch.zeros(n)
        self.mu, self.nu = torch.zeros(n), torch.zeros(n)
        self.steps = torch.zeros(len(self.params))  # Adam's step counts, float32 as torch's fused Adam keeps them
        self._bound: list | None = None
        self._np = (self.flat.numpy(), self.grad.numpy(), self.mu.numpy(), self.nu.numpy(), self.steps.numpy())

    # -- keeping the tensors the rest of the app sees on the flat buffers ------------------------
    def _views(self, buf: torch.Tensor) -> list[torch.Tensor]:
        return [buf[int(a):int(b)].view_as(p) for a, b, p in zip(self.offs[:-1], self.offs[1:], self.params)]

    def _bind(self) -> None:
        """Copy the current parameters and Adam state into the flat buffers and point the
        parameters, their grads and the optimizer's state at them."""
        with torch.no_grad():
            for p, v in zip(self.params, self._views(self.flat)):
                v.copy_(p)
                p.data = v
            for p, v in zip(self.params, self._views(self.grad)):
                p.grad = v
            state = self.optimizer.state
            if self.adam:
                mus, nus = self._views(self.mu), self._views(self.nu)
                for i, p in enumerate(self.params):
                    s = state.get(p)
                    if s:
                        mus[i].copy_(s["exp_avg"])
                        nus[i].copy_(s["exp_avg_sq"])
                        self.steps[i] = float(s["step"])
                    else:
                        mus[i].zero_()
                        nus[i].zero_()
                        self.steps[i] = 0.0
                    state[p] = {"step": self.steps[i], "exp_avg": mus[i], "exp_avg_sq": nus[i]}
        self._bound = self._binding()
        ws = [v.numpy() for v in self._views(self.flat)]  # numpy views of the flat buffers, per parameter
        gs = [v.numpy() for v in self._views(self.grad)]
        self._weights = [tuple(ws[4 * k:4 * k + 4]) for k in range(self.L)]  # W_ih, W_hh, b_ih, b_hh
        self._grads = [tuple(gs[4 * k:4 * k + 4]) for k in range(self.L)]
        self._readout, self._readout_grads = tuple(ws[4 * self.L:]), tuple(gs[4 * self.L:])

    def _binding(self) -> list:
        state = self.optimizer.state
        out = []
        for p in self.params:
            s = state.get(p) if self.adam else None
            out.append((p.data_ptr(), p.grad, s and s.get("exp_avg"), s and s.get("step")))
        return out

    def _check_bound(self) -> None:
        if self._bound is None or any(
                p.data_ptr() != ptr or p.grad is not g or (self.adam and (
                    (s := self.optimizer.state.get(p)) is None or s.get("exp_avg") is not mu or s.get("step") is not st))
                for p, (ptr, g, mu, st) in zip(self.params, self._bound)):
            self._bind()

    # -- the step ---------------------------------------------------------------------------
    def step(self, x: torch.Tensor, y: torch.Tensor, m: torch.Tensor, state: tuple | None, lr: float,
             clip: float | None, flow: bool) -> StepResult:
        """x (T, B, I), y (T, B, O), m (T, B) CPU float32; ``state`` per layer h or (h, c), None = zeros."""
        self._check_bound()
        match_torch_threads()
        flat, grad, mu, nu, steps = self._np
        xs, ys, ms = _c(x), _c(y), _c(m)
        T, B, _ = xs.shape
        cell, H = self.cell, self.H
        lstm = cell == "lstm"
        f32 = np.float32
        flows = np.zeros((self.L, T), f32)
        layers = []  # per layer: (input, what forward saved)
        inp = xs
        for k, weights in enumerate(self._weights):
            s = None if state is None else state[k]
            h0 = 0.0 if s is None else (s[0] if lstm else s).detach().numpy()
            c0 = (0.0 if s is None else s[1].detach().numpy()) if lstm else None
            saved = forward(cell, inp, h0, c0, *weights)
            layers.append((inp, saved))
            inp = saved[0][1:]

        # readout and masked MSE: the loss and dL/d(top states, readout)
        w_o, b_o = self._readout
        g_w_o, g_b_o = self._readout_grads
        O = w_o.shape[0]
        gy = np.empty((T, B, H), f32)
        loss = _readout_mse(inp.reshape(T * B, H), w_o, b_o, ys.reshape(T * B, O), ms, np.empty((T * B, O), f32),
                            gy.reshape(T * B, H), g_w_o, g_b_o)

        # backward, top layer first; the loss does not read the final cell state
        gc = np.zeros((B, H), f32)
        for k in range(self.L - 1, -1, -1):
            inp, saved = layers[k]
            w_ih, w_hh, _, _ = self._weights[k]
            gy, _, _ = backward(cell, gy, gc, inp, saved, w_ih, w_hh, flows[k], self._grads[k])  # the layer below's gy

        norms = np.empty(len(self.params))
        group = self.optimizer.param_groups[0]
        beta1, beta2 = group.get("betas", (0.9, 0.999))
        status, total = finish(loss, grad, self.offs, norms, float(clip or 0.0), self.adam, float(lr), float(beta1),
                               float(beta2), float(group.get("eps", 1e-8)), flat, mu, nu, steps)
        final = []
        for _, (hs, _, cs, _) in layers:
            h = torch.from_numpy(hs[T].copy())
            final.append((h, torch.from_numpy(cs[T].copy())) if lstm else h)
        return StepResult(status == OK, float(loss), float(total), norms, bool(clip) and total > clip, tuple(final),
                          list(torch.from_numpy(flows)) if flow else None)


def _c(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().numpy())
