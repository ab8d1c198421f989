"""``python main.py sweep PRESET_OR_FILE [--workers N] [--storage URL] [--workspace DIR] [--json]``
and ``python main.py sweep worker NAME --storage URL [--workspace DIR]``.

The first makes (or loads, to continue) the sweep's Optuna study, starts N worker processes,
draws a progress bar with ETA on stderr (on a terminal) and prints the results; Ctrl-C or
SIGTERM stops the workers cleanly (run the same command again to continue). The second joins
an existing sweep, e.g. from another machine, and runs trials until none is left.
"""

from __future__ import annotations

import json
import signal
import sys
import time

from explorer.cli.train import add_workspace_option


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="run a sweep (a preset, .json or .toml) on Optuna; "
                       "`sweep worker NAME` joins one")
    p.add_argument("target", metavar="PRESET_OR_FILE", help="sweep preset name, .json / .toml file, or `worker`")
    p.add_argument("name", nargs="?", metavar="NAME", help="with `worker`: the sweep to join")
    p.add_argument("--workers", type=int, help="worker processes (default: the definition's, one per core)")
    p.add_argument("--storage", metavar="URL", help="Optuna storage URL (default: sqlite:///<workspace>/sweeps.db; "
                   "postgresql://user@host/db for several machines)")
    add_workspace_option(p)
    p.add_argument("--restart", action="store_true", help="delete this sweep's study first and start over")
    p.add_argument("--json", action="store_true", help="print one JSON object with every trial")
    p.add_argument("--heartbeat", type=int, default=None, help=argparse_hidden())  # seconds; tests use 1
    p.add_argument("--grace", type=int, default=None, help=argparse_hidden())
    p.set_defaults(run=run)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def run(args) -> int:
    from explorer.core.errors import ConfigError, FieldProblem

    for key in ("workers", "heartbeat", "grace"):
        value = getattr(args, key)
        if value is not None and value < 1:
            raise ConfigError(FieldProblem(f"--{key}", f"is {value}; it must be at least 1"))
    if args.target == "worker":
        if not args.name:
            raise ConfigError(FieldProblem("NAME", "`sweep worker` needs the sweep's name: "
                                           "python main.py sweep worker NAME --storage URL"))
        return _worker(args)
    if args.name:
        raise ConfigError(FieldProblem("NAME", f"unexpected {args.name!r}; only `sweep worker NAME` takes a name"))
    return _launch(args)


def _worker(args) -> int:
    from explorer.core.runs import default_workspace
    from explorer.core.sweeps import default_storage
    from explorer.core.sweeps import study as studies
    from explorer.core.sweeps.worker import run_worker

    workspace = getattr(args, "workspace", None) or default_workspace()
    storage = args.storage or default_storage(workspace)
    n = run_worker(args.name, storage, workspace, heartbeat_s=args.heartbeat or studies.HEARTBEAT_S,
                   grace_s=args.grace)
    print(f"worker done: {n} trial{'s' if n != 1 else ''} run", file=sys.stderr)
    return 0


def _launch(args) -> int:
    from explorer.core.runs import RunStore
    from explorer.core.sweeps import SweepLauncher, load_definition
    from explorer.core.sweeps import study as studies

    definition = load_definition(args.target)  # refused here, naming the field, before anything starts
    store = RunStore(getattr(args, "workspace", None))
    launcher = SweepLauncher(definition, store, args.storage, workers=args.workers, restart=args.restart,
                             heartbeat_s=args.heartbeat or studies.HEARTBEAT_S, grace_s=args.grace)
    bar = _Bar(sys.stderr.isatty(), definition.name)
    stopped = False

    def on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    try:
        launcher.start()
        launcher.wait(bar.update)
    except KeyboardInterrupt:
        stopped = True
        bar.note("stopping the workers (their trials go back to the queue)...")
        launcher.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
    status = launcher.status(fresh=True)
    bar.update(status, final=True)
    results = launcher.results()
    seconds = time.monotonic() - started
    if args.json:
        print(json.dumps(_summary(definition, launcher, results, status, seconds, stopped)))
    else:
        _table(definition, results, status, seconds)
    crashed = [i for i, rc in enumerate(launcher.returncodes) if rc not in (0, None, -signal.SIGTERM)]
    for i in crashed:
        tail = "\n".join(launcher.worker_log(i).strip().splitlines()[-8:])
        print(f"worker {i} exited with {launcher.returncodes[i]}; the end of its log "
              f"({launcher.log_dir / f'worker-{i}.log'}):\n{tail}", file=sys.stderr)
    if stopped:
        print(f"stopped: {status.done}/{status.total} done; run the same command to continue", file=sys.stderr)
        return 130
    return 0 if status.done == status.total else 1


def _summary(definition, launcher, results, status, seconds, stopped) -> dict:
    from explorer.core.sweeps.study import _redact

    complete = [r for r in results if r.objective is not None]
    best = (min if definition.direction == "minimize" else max)(complete, key=lambda r: r.objective, default=None)
    return {"sweep": definition.name, "title": definition.title, "look_for": list(definition.look_for),
            "storage": _redact(launcher.storage_url), "objective": definition.objective,
            "direction": definition.direction, "sampler": definition.sampler, "total": status.total,
            "done": status.done, "failed": status.failed, "pruned": status.pruned, "stopped": stopped,
            "seconds": round(seconds, 3), "workers": len(launcher.processes),
            "best": best.to_json() if best else None, "trials": [r.to_json() for r in results]}


def _table(definition, results, status, seconds) -> None:
    print(f"{definition.name}: {status.done}/{status.total} done in {seconds:.1f} s "
          f"({status.failed} failed, {status.pruned} pruned); objective {definition.objective} "
          f"({definition.direction})")
    for r in results:
        params = ", ".join(f"{k}={v}" for k, v in r.point.items())
        value = "" if r.objective is None else f"{r.objective:.5g}"
        note = f"  {r.message}" if r.state != "complete" and r.message else ""
        print(f"  #{r.number:<3} {r.state:9s} {value:>10s}  {r.run_id or '-':22s} {params}{note}")


class _Bar:
    """One line on stderr, on a terminal only: points done, running, failed, ETA."""

    def __init__(self, enabled: bool, name: str):
        self.enabled, self.name = enabled, name

    def update(self, s, final: bool = False) -> None:
        if not self.enabled:
            return
        filled = int(30 * s.done / max(s.total, 1))
        eta = "" if s.eta_s is None else f"  ETA {int(s.eta_s) // 60}:{int(s.eta_s) % 60:02d}"
        failed = f"  {s.failed} failed" if s.failed else ""
        line = (f"\r{self.name} [{'#' * filled}{'.' * (30 - filled)}] {s.done}/{s.total}  "
                f"{s.running} running{failed}{eta}")
        sys.stderr.write(line + "\x1b[K" + ("\n" if final else ""))
        sys.stderr.flush()

    def note(self, text: str) -> None:
        print(("\n" if self.enabled else "") + text, file=sys.stderr)
