"""Shared by the sweep tests: tiny definitions and the checks that a sweep ran completely."""

from __future__ import annotations

import time
from collections import Counter

from explorer.core.runs import RunStore
from explorer.core.sweeps import SweepDefinition, SweepLauncher

TINY = {"train.report_every": 5, "train.eval_every": 10, "train.probe_every": 0, "train.flow_every": 0,
        "task.heldout_size": 16, "model.cell": "vanilla"}  # seconds per trial, with a held-out curve
HEARTBEAT_S, GRACE_S = 1, 3  # tests: a dead worker's trial is retried after 3 s


def tiny_sweep(name: str, steps: int = 40, **kw) -> SweepDefinition:
    data = {"name": name, "base": "default", "changes": dict(TINY), "steps": steps, "workers": 2}
    if "points" not in kw and "fields" not in kw:
        kw["fields"] = {"model.hidden_size": [4, 8], "train.lr": [0.01, 0.02]}
    data.update(kw)
    return SweepDefinition.from_dict(data)


def launcher(definition, workspace, storage=None, workers=2) -> SweepLauncher:
    return SweepLauncher(definition, RunStore(workspace), storage, workers=workers, heartbeat_s=HEARTBEAT_S,
                         grace_s=GRACE_S)


def run_to_end(launcher_, timeout: float = 120.0) -> None:
    launcher_.start()
    deadline = time.monotonic() + timeout
    while launcher_.running:
        assert time.monotonic() < deadline, "the sweep did not finish in time"
        time.sleep(0.2)
    assert all(rc == 0 for rc in launcher_.returncodes), [launcher_.worker_log(i) for i in range(len(launcher_.processes))]


def assert_ran_exactly_once(definition, launcher_, workspace) -> dict:
    """Every point complete once in the study, and exactly one finished run per point in the store."""
    results = launcher_.results()
    assert [r.point for r in results] == definition.grid()
    assert all(r.state == "complete" and r.objective is not None for r in results), results
    runs = [r for r in RunStore(workspace).list() if r.sweep == definition.name]
    finished = Counter(tuple(sorted(r.params.items())) for r in runs if r.status == "finished")
    assert finished == Counter(tuple(sorted(p.items())) for p in definition.grid())
    by_id = {r.id: r for r in runs}
    for r in results:
        record = by_id[r.run_id]
        assert record.status == "finished" and record.params == r.point and record.trial == r.number
        assert record.final_heldout == r.objective  # the objective is the run's own number
    status = launcher_.status(fresh=True)
    assert (status.done, status.total, status.running, status.waiting) == (len(results), definition.total, 0, 0)
    return by_id
