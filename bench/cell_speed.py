"""Training steps per second of one recurrent layer, four ways, on the same weights.

A step = forward over T steps, MSE on a linear readout, backward, SGD update; hidden 256,
sequence length 50, input 1, batch 1 and 64, one torch thread:

- ``plain loop``: a hand-written torch loop, ``h = tanh(x_t W_ih^T + b_ih + h W_hh^T + b_hh)``;
- ``scan``: the lab's cells on the core ``scan(step, init, xs)`` (every state visible);
- ``fused``: ``nn.RNN`` (cuDNN on a GPU);
- ``manual``: the lab's hand-written BPTT in torch ops (vanilla / ReLU only);
- ``numba``: the lab's hand-written BPTT compiled by numba (every cell; when numba is installed).

GRU and LSTM are timed too (scan vs fused vs numba). bench/vs_jax.py compares with JAX directly. Rounds are interleaved and the best round kept
(the least disturbed by other work on the machine). Reference on this 2-core CPU: a jitted
JAX ``lax.scan`` training step is 4.8x the plain loop at batch 1. Target: the fastest
batch-1 path here >= 2x the plain loop.

    python bench/cell_speed.py [--rounds 5] [--seconds 0.6]
"""

from __future__ import annotations

import argparse
import time

import torch

H, T, I = 256, 50, 1
JAX_VS_PLAIN = 4.8


def plain_step(model, x, y, opt):
    w_ih, w_hh, b_ih, b_hh = model.layer_weights(0)
    h, hs = torch.zeros(x.shape[1], H), []
    for t in range(x.shape[0]):
        h = torch.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)  # (B, H)
        hs.append(h)
    loss = (model.readout(torch.stack(hs)) - y).pow(2).mean()  # (T, B, 1) -> ()
    opt.zero_grad()
    loss.backward()
    opt.step()


def lab_step(backend):
    def step(model, x, y, opt):
        loss = (model(x, backend=backend).outputs - y).pow(2).mean()  # ()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def rate(fn, model, x, y, opt, seconds):
    for _ in range(3):
        fn(model, x, y, opt)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(model, x, y, opt)
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.6, help="per path per round")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from explorer.core.lab.config import ModelConfig
    from explorer.core.lab.models import build_model

    paths = {("vanilla", "plain loop"): plain_step, ("vanilla", "scan"): lab_step("scan"),
             ("vanilla", "fused"): lab_step("fused"), ("vanilla", "manual"): lab_step("manual"),
             ("gru", "scan"): lab_step("scan"), ("gru", "fused"): lab_step("fused"),
             ("lstm", "scan"): lab_step("scan"), ("lstm", "fused"): lab_step("fused")}
    from explorer.core.lab import fast

    if fast.AVAILABLE:
        paths.update({(cell, "numba"): lab_step("numba") for cell in ("vanilla", "gru", "lstm")})
    for batch in (1, 64):
        x, best = torch.randn(T, batch, I), {}
        y = x.cumsum(0)  # (T, B, 1)
        models = {cell: build_model(ModelConfig(cell=cell, hidden_size=H, init_scale=0.05), I, 1)
                  for cell in ("vanilla", "gru", "lstm")}
        opts = {cell: torch.optim.SGD(m.parameters(), lr=1e-4) for cell, m in models.items()}
        for _ in range(args.rounds):
            for (cell, name), fn in paths.items():
                r = rate(fn, models[cell], x, y, opts[cell], args.seconds)
                best[cell, name] = max(best.get((cell, name), 0.0), r)
        plain = best["vanilla", "plain loop"]
        print(f"batch {batch}, hidden {H}, length {T} (training steps/s, best of {args.rounds} rounds):")
        for (cell, name), r in best.items():
            print(f"  {cell:8s} {name:11s} {r:8.1f} steps/s  {r / plain:5.2f}x plain loop")
        if batch == 1:
            name, r = max(((n, r) for (c, n), r in best.items() if c == "vanilla"), key=lambda p: p[1])
            verdict = "meets" if r >= 2 * plain else "MISSES"
            print(f"  fastest batch-1 path: {name}, {r / plain:.2f}x the plain loop ({verdict} the 2x target); "
                  f"JAX lax.scan (jitted) was {JAX_VS_PLAIN}x, so this is {JAX_VS_PLAIN / (r / plain):.2f}x "
                  "slower than JAX")


if __name__ == "__main__":
    main()
