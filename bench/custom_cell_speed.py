"""A custom vanilla cell (the vanilla_by_hand preset) against the built-in vanilla on its scan
backend: training steps/s, interleaved repeats, median ratio (target: custom within 1.3x).

    python bench/custom_cell_speed.py [--steps 300] [--repeats 5] [--hidden 256] [--batch 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch

from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.training import Trainer
from explorer.core.presets import load_preset


def steps_per_s(config: ExperimentConfig) -> float:
    trainer = Trainer(config)
    start = time.perf_counter()
    for _ in trainer.reports():
        pass
    return config.train.steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(1)
    custom = ExperimentConfig.from_dict(load_preset("train", "vanilla_by_hand"))
    train = dataclasses.replace(custom.train, steps=args.steps, batch_size=args.batch, report_every=50,
                                flow_every=0, probe_every=0, eval_every=0)
    custom = dataclasses.replace(custom, train=train, model=dataclasses.replace(custom.model, hidden_size=args.hidden))
    builtin = dataclasses.replace(custom, model=dataclasses.replace(custom.model, cell="vanilla", custom=None,
                                                                    backend="scan"))
    ratios = []
    for _ in range(args.repeats):
        b, c = steps_per_s(builtin), steps_per_s(custom)
        ratios.append(b / c)
        print(f"built-in vanilla (scan) {b:7.1f} steps/s   custom vanilla {c:7.1f} steps/s   ratio {b / c:.3f}")
    print(f"median: the custom cell takes {statistics.median(ratios):.3f}x the built-in scan backend's time "
          f"(hidden {args.hidden}, batch {args.batch}; target <= 1.3x)")


if __name__ == "__main__":
    main()
