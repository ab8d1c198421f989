"""Run every bad input (``cases.py``) as ``python main.py ...`` under a memory cap and check:
exit code 2, no "Traceback" on stderr, under 10 s each.

    python tests/bad_inputs/runner.py            # all cases, 2 at a time; exit 1 if any fails
    python tests/bad_inputs/runner.py -k checkpoint -j 1

Each child runs with ``RLIMIT_AS`` = 3 GiB (set in ``preexec_fn``; this runner starts no
threads), its output in files, and is reaped with ``os.wait4`` for its own CPU time. The
10 s limit is on CPU time always, and on wall time unless the machine is oversubscribed
(see ``wall_limit``). A child past ``HANG_S`` wall seconds is killed (a hang).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from cases import CASES, Case, prepare  # noqa: E402

MEMORY_CAP = 3 * 2**30  # bytes of address space per child
LIMIT_S = 10.0  # CPU seconds per case (wall too, scaled by load)
HANG_S = 60.0  # wall seconds after which a child is killed


@dataclass
class Outcome:
    case: Case
    code: int  # exit code; negative: killed by that signal
    cpu_s: float
    wall_s: float
    stderr: str
    killed: bool = False

    def problems(self, wall_limit: float | None) -> list[str]:
        found = []
        if self.killed:
            found.append(f"hung: killed after {HANG_S:.0f} s")
        if self.code != 2:
            found.append(f"exit {self.code}, not 2")
        if "Traceback" in self.stderr:
            found.append("a traceback on stderr")
        if not self.stderr.strip():
            found.append("no message on stderr")
        if self.cpu_s > LIMIT_S:
            found.append(f"{self.cpu_s:.1f} s of CPU (limit {LIMIT_S:.0f})")
        if wall_limit is not None and self.wall_s > wall_limit:
            found.append(f"{self.wall_s:.1f} s wall (limit {wall_limit:.0f})")
        return found


def wall_limit() -> float | None:
    """10 s of wall time, or None (not checked) while the machine is oversubscribed (load
    average over 1.5 x its cores): then wall time measures the neighbours, and CPU time
    (always checked) and the hang limit are what says the input was refused at once."""
    try:
        load, cores = os.getloadavg()[0], len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return LIMIT_S
    return LIMIT_S if load <= 1.5 * cores else None


def _cap_memory() -> None:  # preexec_fn: runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_all(cases: list[Case], jobs: int = 2, env: dict | None = None) -> list[Outcome]:
    """Run ``cases`` ``jobs`` at a time (no threads: children are reaped with wait4)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    pending, running, done = list(cases), {}, []
    with tempfile.TemporaryDirectory() as logs:
        while pending or running:
            while pending and len(running) < jobs:
                case = pending.pop(0)
                err = open(Path(logs) / f"{len(done) + len(running)}.err", "w+")
                proc = subprocess.Popen([sys.executable, "main.py", *case.argv], cwd=ROOT, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                        preexec_fn=_cap_memory)
                running[proc.pid] = (case, proc, err, time.perf_counter(), False)
            for pid, (case, proc, err, start, killed) in list(running.items()):
                got, status, usage = os.wait4(pid, os.WNOHANG)
                if got == 0:
                    if time.perf_counter() - start > HANG_S and not killed:
                        os.kill(pid, signal.SIGKILL)
                        running[pid] = (case, proc, err, start, True)
                    continue
                proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
                err.seek(0)
                done.append(Outcome(case, proc.returncode, usage.ru_utime + usage.ru_stime,
                                    time.perf_counter() - start, err.read(), killed))
                err.close()
                del running[pid]
            time.sleep(0.02)
    order = {c.name: i for i, c in enumerate(cases)}
    return sorted(done, key=lambda o: order[o.case.name])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("-j", type=int, default=2, help="cases at a time (default 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        cases = prepare(folder, [c for c in CASES if args.k in c.name])
        start = time.perf_counter()
        outcomes = run_all(cases, args.j)
        total = time.perf_counter() - start
    limit, failed = wall_limit(), 0
    print("wall time " + (f"limit {limit:.0f} s" if limit else "not checked: the machine is oversubscribed"))
    for o in outcomes:
        problems = o.problems(limit)
        mark = "ok  " if not problems else "wait" if o.case.pending else "FAIL"
        failed += bool(problems) and not o.case.pending
        print(f"{mark} {o.case.name:50s} exit {o.code:>4} {o.cpu_s:5.1f} s cpu {o.wall_s:5.1f} s wall"
              + (f"  {'; '.join(problems)}" + (f" (pending: {o.case.pending})" if o.case.pending else "")
                 if problems else ""))
        if problems:
            print("     " + (o.stderr.strip().splitlines() or [""])[-1][:300])
    print(f"{len(outcomes)} cases in {total:.0f} s: {failed} failed, "
          f"{sum(bool(o.problems(limit)) and bool(o.case.pending) for o in outcomes)} pending other work")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
