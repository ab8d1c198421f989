"""Sweep wall time with 1 worker against 2 workers (target: 2 workers >= 1.7x faster on 2 cores).

One grid of 6 points (a vanilla RNN on the cumulative sum, 3000 steps: 4-5 s each) is run
from scratch with 1 worker, then with 2, alternately ``--repeats`` times, each in a fresh
workspace on the default SQLite storage; the time is the user's: from ``start()`` until
the last worker has exited (worker start-up included). Printed: every wall time and the
workers' CPU time, the best and median ratio, and the load average, since a busy machine
makes the wall ratio meaningless: repeat it on a quiet one.

Each worker's start-up (torch 1.5 s, SQLAlchemy 0.6 s, numba's first kernel load 1.2 s on this
CPU) is paid once per worker, in parallel: with 1-second trials (``--steps 800``) it is a third
of the sweep and the ratio falls to about 1.25x; with trials of a few seconds or more it
approaches 2x. Measured on a quiet 2-core machine (2026-12-01): 3000 steps 1.81x, 800 steps 1.24x.

    python bench/sweep_scaling.py [--repeats 3] [--steps 3000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time

TARGET = 1.7


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for worker processes
    return usage.ru_utime + usage.ru_stime


def sweep_seconds(workers: int, steps: int, tag: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the workers)."""
    from explorer.core.runs import RunStore
    from explorer.core.sweeps import SweepDefinition, SweepLauncher

    definition = SweepDefinition.from_dict({
        "name": f"scaling-{tag}", "base": "default", "steps": steps,
        "fields": {"train.seed": [0, 1, 2], "model.hidden_size": [16, 32]},
        "changes": {"model.cell": "vanilla", "train.report_every": 50, "train.eval_every": 0,
                    "train.probe_every": 0, "train.flow_every": 0, "task.heldout_size": 64}})
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as workspace:
        launcher = SweepLauncher(definition, RunStore(workspace), workers=workers)
        start, cpu = time.perf_counter(), _children_cpu()
        launcher.start()
        launcher.wait(every_s=0.5)  # as the CLI polls
        seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
        status = launcher.status(fresh=True)
        if status.complete != definition.total:
            raise SystemExit(f"the sweep did not complete: {status}; see {launcher.log_dir}")
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    times: dict[int, list[float]] = {1: [], 2: []}
    cpus: dict[int, list[float]] = {1: [], 2: []}
    for i in range(args.repeats):
        for workers in (1, 2):
            seconds, cpu = sweep_seconds(workers, args.steps, f"{workers}-{i}")
            times[workers].append(seconds)
            cpus[workers].append(cpu)
            print(f"repeat {i + 1}: {workers} worker{'s' if workers > 1 else ' '} {seconds:6.1f} s wall, "
                  f"{cpu:6.1f} s CPU in the workers (load average {os.getloadavg()[0]:.1f})", flush=True)
    ratios = [a / b for a, b in zip(times[1], times[2])]
    best, median = max(ratios), statistics.median(ratios)
    print(f"speed-up of 2 workers over 1: best {best:.2f}x, median {median:.2f}x "
          f"(target >= {TARGET}x: {'met' if median >= TARGET else 'NOT met'})")
    print(f"1 worker: min {min(times[1]):.1f} s; 2 workers: min {min(times[2]):.1f} s; "
          f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"worker CPU seconds: 1 worker {statistics.median(cpus[1]):.1f}, 2 workers {statistics.median(cpus[2]):.1f} "
          "(equal means the second worker adds no work of its own beyond its start-up: on a quiet machine "
          "the wall ratio approaches 2x less the start-up)")
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print("note: the machine was busy (load average above half its cores); "
              "repeat on a quiet machine before trusting the ratio")


if __name__ == "__main__":
    main()
