"""Where ``auto`` should stop picking numba on a CPU: the Trainer's numba step against the torch
backend it would pick instead, per cell, over batch x hidden sizes.

A step = what the Trainer runs: forward over T=50 steps (input 1), masked MSE on a linear
readout, backward, Adam with clipping at 1.0. numba = the fused step (``fast.step.FusedStep``);
torch = ``manual`` for vanilla / relu, ``fused`` (nn.GRU / nn.LSTM) for the gated cells. One
torch thread; rounds interleave the two, the median of the per-round ratios is printed, with
the sizes where ``auto`` picks numba (``models.NUMBA_LIMITS``) marked *: numba should win there.

    python bench/auto_limits.py [--cells gru,lstm] [--rounds 3] [--seconds 0.5] [--batches 1,16] [--hidden 256,1024]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

T = 50
BATCHES = (1, 16, 64, 128)
HIDDEN = (32, 128, 256, 512)


def step_fn(cell: str, batch: int, hidden: int, backend: str):
    from explorer.core.lab.config import ModelConfig, TrainConfig
    from explorer.core.lab.fast.step import FusedStep
    from explorer.core.lab.models import build_model
    from explorer.core.lab.optim import make_optimizer

    model = build_model(ModelConfig(cell=cell, hidden_size=hidden, init_scale=0.1), 1, 1)
    opt = make_optimizer(list(model.parameters()), TrainConfig(optimizer="adam", lr=1e-3))
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(T, batch, 1, generator=gen)
    y, m = x.cumsum(0) * 0.1, torch.ones(T, batch)
    if backend == "numba":
        fused = FusedStep(model, opt)
        return lambda: fused.step(x, y, m, None, 1e-3, 1.0, False)
    fuse = model.fuses_loss(backend)

    def step():
        loss = model.loss(model(x, backend=backend, readout=not fuse), y, m)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return step


def rate(fn, seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    from explorer.core.lab.models import NUMBA_LIMITS, numba_fits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="vanilla,gru,lstm")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--hidden", default=",".join(map(str, HIDDEN)))
    args = parser.parse_args()
    batches, hidden = [int(v) for v in args.batches.split(",")], [int(v) for v in args.hidden.split(",")]
    torch.set_num_threads(1)
    for cell in args.cells.split(","):
        other = "manual" if cell in ("vanilla", "relu") else "fused"
        print(f"{cell}: numba / {other} steps/s (NUMBA_LIMITS (hidden, batch * hidden) {NUMBA_LIMITS[cell]}; "
              f"* = auto picks numba)")
        print("  B \\ H " + "".join(f"{h:>9d}" for h in hidden))
        for b in batches:
            cells = []
            for h in hidden:
                fns = {k: step_fn(cell, b, h, k) for k in ("numba", other)}
                for fn in fns.values():
                    fn()
                    fn()
                rounds = [{k: rate(fn, args.seconds) for k, fn in fns.items()} for _ in range(args.rounds)]
                ratio = statistics.median(r["numba"] / r[other] for r in rounds)
                cells.append(f"{ratio:8.2f}{'*' if numba_fits(cell, b, h) else ' '}")
            print(f"  {b:5d} " + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
