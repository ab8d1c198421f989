"""20,000 live plot refreshes: no crash, no growing memory.

This is also the guard against PySide6 6.12.0 on Python 3.11, which over-releases None
after about a thousand void Qt calls ("Fatal Python error: none_dealloc"): every refresh
here makes dozens of them.
"""

import os
import time

import numpy as np
import pytest

from explorer.core.lab.reports import Probe, StepReport
from explorer.gui.plots.panel import PlotPanel
from explorer.gui.run_data import RunData

pytestmark = pytest.mark.gui

REFRESHES = 20_000
RESET_EVERY = 1_000  # the run's data starts over (Reset): memory must come back to the same level


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def report(step: int, rng) -> StepReport:
    r = StepReport(step, total_steps=RESET_EVERY, full=True, loss=float(rng.uniform(0.01, 1)),
                   loss_ema=0.5 / (1 + step), lr=1e-3, grad_norm=float(rng.uniform(0, 3)),
                   grad_norm_clipped=1.0, clip_norm=1.0, clipped_fraction=0.5,
                   param_grad_norms={"w_ih": 0.1, "w_hh": 0.2, "b": 0.3}, steps_per_s=500.0)
    if step % 20 == 0:
        r.heldout_loss = 0.3
    if step % 50 == 0:
        r.grad_flow = rng.uniform(0.001, 1, size=int(rng.integers(5, 50)))
        t = np.arange(30.0)[:, None]
        r.probe = Probe(np.sin(t), np.cos(t), np.cos(t) + 0.1, np.zeros((30, 4)), np.ones(30), np.zeros((1, 30, 4)))
    return r


def test_twenty_thousand_refreshes_do_not_leak(qtbot, qapp):
    data = RunData()
    panel = PlotPanel(data)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    panel.timer.stop()  # we drive the refreshes
    panel.set_reference_lines({"a": 0.5, "b": 0.1})
    panel.set_total_steps(RESET_EVERY)  # as the window does when a run starts
    rng = np.random.default_rng(0)
    levels, start = [], time.perf_counter()
    for i in range(REFRESHES):
        step = i % RESET_EVERY
        if step == 0:
            data.clear()
            qapp.processEvents()
            levels.append(rss_mb())
        data.add([report(step + 1, rng)])
        panel.refresh()
        if i % 25 == 0:
            panel.log_loss.setChecked(i % 2000 < 1000)  # toggling log mode is part of the soak
            qapp.processEvents()  # paint
    elapsed = time.perf_counter() - start
    assert panel.frames == REFRESHES
    # after warm-up, each reset comes back to the same memory (a leak grows with every cycle)
    warm = levels[3:]
    assert max(warm) - min(warm) < 25, f"RSS per reset cycle (MB): {[round(v, 1) for v in levels]}"
    print(f"{REFRESHES} refreshes in {elapsed:.1f} s; RSS {levels[0]:.0f} -> {levels[-1]:.0f} MB")
