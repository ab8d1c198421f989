"""``SweepLauncher``: make or load a sweep's study, start its worker processes, watch, stop.

The CLI and the window use it alike (no Qt; the window polls it from a timer)::

    launcher = SweepLauncher(definition, RunStore(workspace), workers=2)
    launcher.start()
    while launcher.running:
        done, total, eta_s = launcher.progress()
        ...
    launcher.results()      # one TrialResult per point
    launcher.stop()         # SIGTERM: each worker stops its trial cleanly and queues it again

Workers are ``sys.executable -m explorer sweep worker NAME --storage URL --workspace DIR``
(never threads); their output goes to ``<workspace>/sweeps/<name>/worker-<i>.log``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import study as studies
from .definition import SweepDefinition

STOP_WAIT_S = 30.0  # a worker's trial ends at its next step; past this the worker is killed
POLL_MIN_S = 0.25  # progress() reads the storage at most this often


@dataclass(frozen=True)
class SweepStatus:
    done: int  # points finished: complete, failed or pruned
    total: int  # points in the sweep
    running: int  # trials running now (this machine's workers or others')
    waiting: int  # queued, not started
    complete: int  # finished with an objective
    failed: int  # failed (their messages say why)
    pruned: int  # ended early by the pruner
    eta_s: float | None  # seconds left at the pace so far (None until a trial finished)
    workers_alive: int  # this launcher's worker processes still running


class SweepLauncher:
    def __init__(self, definition: SweepDefinition, store, storage: str | None = None, *,
                 workers: int | None = None, heartbeat_s: int = studies.HEARTBEAT_S,
                 grace_s: int | None = None, restart: bool = False):
        self.definition, self.store = definition, store
        self.storage_url = storage or studies.default_storage(store.workspace)
        self.heartbeat_s, self.grace_s = heartbeat_s, grace_s
        self.storage = studies.open_storage(self.storage_url, heartbeat_s=heartbeat_s, grace_s=grace_s, pops=False)
        self.study = studies.create_or_load(definition, self.storage, restart=restart)
        self.workers = max(1, workers or definition.workers)
        self.log_dir = Path(store.workspace) / "sweeps" / definition.name
        self.processes: list[subprocess.Popen] = []
        self._started = None
        self._cache: tuple[float, list] = (0.0, [])

    # -- workers -------------------------------------------------------------------------------
    def worker_command(self) -> list[str]:
        cmd = [sys.executable, "-m", "explorer", "sweep", "worker", self.definition.name,
               "--storage", self.storage_url, "--workspace", str(self.store.workspace),
               "--heartbeat", str(self.heartbeat_s)]
        if self.grace_s:
            cmd += ["--grace", str(self.grace_s)]
        return cmd

    def start(self) -> None:
        """Start the workers: no more than there are trials left (none for a finished sweep;
        one for a trial left running by a dead worker, to retry it once its heartbeat is stale)."""
        s = self.status(fresh=True)
        n = min(self.workers, s.waiting + s.running)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[3])  # the checkout: workers import the same code
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        env.setdefault("OMP_NUM_THREADS", "1")
        self._started = time.time()
        for i in range(n):
            with open(self.log_dir / f"worker-{i}.log", "ab") as log:  # the child keeps its own copy
                self.processes.append(subprocess.Popen(self.worker_command(), stdout=log, stderr=subprocess.STDOUT,
                                                       stdin=subprocess.DEVNULL, env=env, start_new_session=True))

    @property
    def running(self) -> bool:
        return any(p.poll() is None for p in self.processes)

    @property
    def returncodes(self) -> list[int | None]:
        return [p.poll() for p in self.processes]

    def stop(self, timeout: float = STOP_WAIT_S) -> None:
        """Ask every worker to stop (SIGTERM): its trial's run ends "stopped" and goes back to
        the queue. A worker still alive after ``timeout`` is killed (its trial is retried)."""
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in self.processes:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def wait(self, on_progress=None, every_s: float = 0.5) -> None:
        """Until every worker has exited; ``on_progress(status)`` between polls."""
        while self.running:
            if on_progress is not None:
                on_progress(self.status())
            time.sleep(every_s)
        if on_progress is not None:
            on_progress(self.status(fresh=True))

    def worker_log(self, i: int) -> str:
        try:
            return (self.log_dir / f"worker-{i}.log").read_text(errors="replace")
        except OSError:
            return ""

    # -- what the study says -----------------------------------------------------------------
    def results(self, fresh: bool = True) -> list:
        """One :class:`TrialResult` per point, in the sweep's order."""
        now = time.monotonic()
        if fresh or now - self._cache[0] >= POLL_MIN_S:
            self._cache = (now, studies.results(self.study, self.definition))
        return self._cache[1]

    def status(self, fresh: bool = False) -> SweepStatus:
        results = self.results(fresh=fresh)
        by: dict[str, int] = {}
        for r in results:
            by[r.state] = by.get(r.state, 0) + 1
        total = self.definition.total
        done = sum(by.get(s, 0) for s in ("complete", "failed", "pruned"))
        alive = sum(p.poll() is None for p in self.processes)
        return SweepStatus(done, total, by.get("running", 0), by.get("waiting", 0), by.get("complete", 0),
                           by.get("failed", 0), by.get("pruned", 0), _eta(results, max(alive, 1)), alive)

    def progress(self) -> tuple[int, int, float | None]:
        """(points done, points in the sweep, seconds left or None)."""
        s = self.status()
        return s.done, s.total, s.eta_s


def _eta(results: list, workers: int) -> float | None:
    """Seconds left: the mean finished trial's time for each waiting one, less what running
    ones have done already, shared among the workers."""
    took = [r.ended - r.started for r in results if r.ended is not None and r.started is not None
            and r.state in ("complete", "failed", "pruned")]
    left = [r for r in results if r.state in ("waiting", "running")]
    if not left:
        return 0.0
    if not took:
        return None
    mean, now = sum(took) / len(took), time.time()
    work = sum(mean if r.state == "waiting" or r.started is None else max(mean - (now - r.started), 0.0)
               for r in left)
    return work / min(workers, len(left))
