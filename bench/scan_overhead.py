"""What does the scan interface cost over a hand-written torch loop?

One recurrence, h_t = tanh(x_t @ W_x + h_{t-1} @ W_h + b), hidden 256, 1000 steps, at
batch 1 and 64, forward and forward+backward, run three ways:

- ``explorer.scan`` (the Theano-compatible interface),
- the carry-based primitive ``explorer.core.scan.scan``,
- a hand-written loop that appends to a list and stacks.

Prints seconds per run (the minimum over repeats, interleaved so drift hits all alike:
the minimum is the least disturbed by other work on the machine) and the
ratio to the hand loop. Target: explorer.scan <= 1.15x the hand loop.

    python bench/scan_overhead.py [--steps 1000] [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch

from explorer import scan
from explorer.core.scan import scan as primitive


def hand_loop(xs, h0, W_x, W_h, b):
    h, hs = h0, []
    for x in xs:  # x: (B, I)
        h = torch.tanh(x @ W_x + h @ W_h + b)  # (B, H)
        hs.append(h)
    return torch.stack(hs)  # (T, B, H)


def theano_style(xs, h0, W_x, W_h, b):
    return scan(lambda x, h, W_x, W_h, b: torch.tanh(x @ W_x + h @ W_h + b),
                sequences=xs, outputs_info=h0, non_sequences=[W_x, W_h, b])


def carry_style(xs, h0, W_x, W_h, b):
    def step(h, x):
        h = torch.tanh(x @ W_x + h @ W_h + b)  # (B, H)
        return h, h

    return primitive(step, h0, xs)[1]


WAYS = {"hand loop": hand_loop, "primitive": carry_style, "explorer.scan": theano_style}


def measure(batch: int, steps: int, hidden: int, repeats: int, backward: bool) -> dict[str, float]:
    torch.manual_seed(0)
    xs = torch.randn(steps, batch, hidden)
    h0 = torch.zeros(batch, hidden)
    params = [torch.randn(hidden, hidden) * 0.05, torch.randn(hidden, hidden) * 0.05, torch.zeros(hidden)]
    for p in params:
        p.requires_grad_(backward)
    want = hand_loop(xs, h0, *params)
    for name, way in WAYS.items():  # same numbers, and a warm-up
        torch.testing.assert_close(way(xs, h0, *params), want, msg=name)
    times: dict[str, list[float]] = {name: [] for name in WAYS}
    for _ in range(repeats):
        for name, way in WAYS.items():
            start = time.perf_counter()
            out = way(xs, h0, *params)
            if backward:
                out.sum().backward()
            times[name].append(time.perf_counter() - start)
    return {name: min(ts) for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), hidden {args.hidden}, {args.steps} steps")
    print(f"{'case':28s} {'hand loop':>10s} {'primitive':>10s} {'explorer.scan':>14s} {'prim/hand':>10s} {'scan/hand':>10s}")
    worst = 0.0
    for batch in (1, 64):
        for backward in (False, True):
            t = measure(batch, args.steps, args.hidden, args.repeats, backward)
            ratio = t["explorer.scan"] / t["hand loop"]
            worst = max(worst, ratio)
            label = f"batch {batch}, {'fwd+bwd' if backward else 'forward'}"
            print(f"{label:28s} {t['hand loop'] * 1e3:8.1f}ms {t['primitive'] * 1e3:8.1f}ms "
                  f"{t['explorer.scan'] * 1e3:12.1f}ms {t['primitive'] / t['hand loop']:9.3f}x {ratio:9.3f}x")
    print(f"worst explorer.scan / hand loop: {worst:.3f}x (target <= 1.15x)")


if __name__ == "__main__":
    main()
