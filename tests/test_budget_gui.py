"""The GUI thread never evaluates user data (issue 9, item 4): a heavy spec (within the
budget) is checked on a worker while the window keeps its timers on time; a newer edit
supersedes the check, and closing cancels it."""

import time

import pytest
from PySide6.QtCore import QTimer

from explorer.core.spec import NonSequenceSpec, OutputSpec, ScanSpec

from gui_helpers import bench  # noqa: F401 - fixture

pytestmark = pytest.mark.gui

# three 1500 x 1500 products: about 10^10 multiply-adds, a few tenths of a second on a quiet core
HEAVY = ScanSpec(title="heavy", non_sequences=(NonSequenceSpec(
    "W", "ones(1500, 1500) @ ones(1500, 1500) @ ones(1500, 1500) @ ones(1500, 1500)"),),
                 outputs=(OutputSpec("y", "y + W[0, 0]", "0.0"),), n_steps=3)


class Lateness:
    """A 10 ms QTimer on the GUI thread; the longest gap between its ticks."""

    def __init__(self):
        self.timer, self.last, self.worst = QTimer(), None, 0.0
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.worst = max(self.worst, now - self.last)
        self.last = now

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.stop()


def test_a_heavy_spec_is_checked_without_freezing_the_window(bench, qtbot):
    with Lateness() as late:
        qtbot.wait(50)
        start = time.perf_counter()
        with qtbot.waitSignal(bench.checker.checked, timeout=60_000) as got:
            bench.set_spec(HEAVY)
        took = time.perf_counter() - start
        qtbot.wait(30)
    assert took > 0.15, "the check should take long enough to show a freeze"
    assert late.worst < 0.1, f"the GUI thread stalled {late.worst * 1000:.0f} ms during a {took:.2f} s check"
    verdict = got.args[0]
    assert verdict.problems == [] and verdict.complete
    assert bench.run_action.isEnabled()


def test_a_newer_edit_supersedes_the_check(bench, qtbot):
    bench.set_spec(HEAVY)
    assert not bench.checker.last.complete and not bench.run_action.isEnabled()
    with qtbot.waitSignal(bench.checker.checked, timeout=60_000) as got:
        bench.load_preset("fibonacci")
    assert got.args[0].spec.title != "heavy"  # the heavy check's answer was dropped
    assert bench.checker.last.spec == got.args[0].spec


def test_run_during_the_check_runs_after_it(bench, qtbot):
    bench.set_spec(HEAVY)
    with qtbot.waitSignal(bench.run_finished, timeout=60_000) as done:
        assert bench.run()  # accepted: it starts when the check passes
    assert done.args[0].outputs["y"].tolist() == [1500.0 ** 3 * k for k in (1, 2, 3)]  # W[0, 0] = 1500^3


def test_closing_cancels_the_check(bench, qtbot):
    bench.set_spec(HEAVY)
    start = time.perf_counter()
    assert bench.close_workbench()  # the fixture and conftest also fail on a live thread
    assert time.perf_counter() - start < 5
