"""Source 002's binary echo task, the three published recipes, with their loss lines.

For each preset: seconds, the training loss averaged over the last 100 steps of every
epoch (what the source prints), and the held-out cross-entropy at the end (rows of 1,000
fresh steps, the first 8 of each left out since they have no history). Targets:
``seed002_echo_ns5`` <= 0.53 at the end of its epoch; ``seed002_echo_ns10`` <= 0.46
within 10 epochs.

    python bench/echo.py [--only ns5] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

TARGETS = {"seed002_echo_ns5": 0.53, "seed002_echo_ns10": 0.46}


def run(name: str, seed: int) -> None:
    import numpy as np

    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.lab.training import Trainer
    from explorer.core.presets import load_preset

    config = ExperimentConfig.from_dict(load_preset("train", name))
    # report every step so the per-epoch averages see every loss; evaluate at each epoch's end
    per_epoch = config.task.stream_length // config.train.batch_size // config.train.num_steps
    config = dataclasses.replace(config, train=dataclasses.replace(
        config.train, seed=seed, report_every=1, eval_every=per_epoch, flow_every=0, probe_every=0))
    trainer = Trainer(config)
    start, losses, epochs, heldout = time.perf_counter(), [], [], []
    for r in trainer.reports():
        losses.append(r.loss)
        epochs.append(r.epoch)
        if r.heldout_loss is not None:
            heldout.append(r.heldout_loss)
    seconds = time.perf_counter() - start
    losses, epochs = np.array(losses), np.array(epochs)
    per = [float(losses[epochs == e][-100:].mean()) for e in range(int(epochs.max()) + 1)]
    lines = ", ".join(f"{k} {v:.5f}" for k, v in trainer.task.reference_lines().items())
    print(f"{name}: {len(losses)} steps in {seconds:.1f} s ({trainer.backend} backend); "
          f"train loss, last 100 steps of each epoch: {' '.join(f'{p:.4f}' for p in per)}; "
          f"held-out at each epoch's end: {' '.join(f'{h:.4f}' for h in heldout)}  [lines: {lines}]")
    if name in TARGETS:
        target = TARGETS[name]
        best = min(heldout)
        ok = (heldout[-1] if name.endswith("ns5") else best) <= target and per[-1] <= target
        what = "end of its epoch" if name.endswith("ns5") else "best held-out within 10 epochs"
        print(f"  target <= {target} ({what}): held-out {heldout[-1] if name.endswith('ns5') else best:.4f}, "
              f"train {per[-1]:.4f} -> {'meets' if ok else 'MISSES'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["ns1", "ns5", "ns10"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    for ns in ("ns1", "ns5", "ns10"):
        if args.only in (None, ns):
            run(f"seed002_echo_{ns}", args.seed)


if __name__ == "__main__":
    main()
