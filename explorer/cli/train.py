"""``python main.py train NAME_OR_FILE [--steps N] [--epochs N] [--device D] [--out DIR] [--json]``

Train headless from a training preset, a config .json file, or a checkpoint
(.safetensors / .pt: the run continues where it stopped; a run's own checkpoint continues
that run's record). Every run is recorded in the workspace (``--workspace DIR``, env
``SCAN_EXPLORER_WORKSPACE``, else the per-user data folder) unless ``--no-record``. A
progress bar goes to stderr on a terminal; ``--json`` prints one strict JSON object, alone on
stdout, at the end; ``--out`` also exports ``config.json``, ``checkpoint.safetensors`` and
``metrics.csv`` (the folder is locked while the run writes it).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a model from a preset, a config .json or a checkpoint")
    p.add_argument("config", metavar="NAME_OR_FILE",
                   help="training preset name, config .json file, or checkpoint to resume")
    p.add_argument("--steps", type=int, help="optimisation steps (overrides train.steps)")
    p.add_argument("--epochs", type=int, help="epochs over the task's stream (sets train.steps to 0)")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N (overrides train.device)")
    p.add_argument("--threads", type=int, help="torch CPU threads (overrides train.threads)")
    p.add_argument("--seed", type=int, help="training seed (overrides train.seed)")
    p.add_argument("--out", metavar="DIR", help="also write config.json, checkpoint.safetensors and metrics.csv here")
    p.add_argument("--name", help="a name for the run in the workspace")
    add_workspace_option(p)
    p.add_argument("--no-record", action="store_true", help="do not record the run in the workspace")
    p.add_argument("--checkpoint-every", type=float, default=60.0, metavar="SECONDS",
                   help="checkpoint the recorded run this often, to resume after a crash (default 60)")
    p.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    p.set_defaults(run=run)


def add_workspace_option(parser) -> None:
    """``--workspace DIR`` on a command; SUPPRESS keeps a top-level ``--workspace`` when absent."""
    parser.add_argument("--workspace", metavar="DIR", default=argparse.SUPPRESS,
                        help="the workspace folder of recorded runs (default: $SCAN_EXPLORER_WORKSPACE, "
                        "else the per-user data folder)")


def _changes(args) -> dict:
    changes = {}
    if args.steps is not None:
        changes["steps"] = args.steps
    if args.epochs is not None:
        changes.update(epochs=args.epochs, steps=0 if args.steps is None else args.steps)
    for name in ("device", "threads", "seed"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    return changes


def _config(args):
    """(config, checkpoint to resume or None); ConfigError names every bad field."""
    import dataclasses

    from explorer.core.errors import ConfigError
    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.lab.persistence import CHECKPOINT_SUFFIXES, load_checkpoint
    from explorer.core.presets import resolve

    changes, resume = _changes(args), None
    if args.config.endswith(CHECKPOINT_SUFFIXES):
        resume = args.config
        config = load_checkpoint(resume)[1]["config"]
    else:
        config = ExperimentConfig.from_dict(resolve("train", args.config))
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))
    problems = config.validate()
    if problems:
        raise ConfigError(problems)
    return config, resume


class Progress:
    """A one-line bar on stderr, redrawn at most 10 times a second, only on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled, self.last = enabled, 0.0

    def update(self, r) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and not r.done):
            return
        self.last = now
        total = r.total_steps or r.step or 1
        filled = int(30 * r.step / total)
        line = f"\r[{'#' * filled}{'.' * (30 - filled)}] {r.step}/{total}"
        if r.loss is not None:
            line += f"  loss {r.loss:.4g}"
        if r.loss_ema is not None:
            line += f"  ema {r.loss_ema:.4g}"
        if r.steps_per_s:
            line += f"  {r.steps_per_s:.0f} steps/s"
        sys.stderr.write(line + "\x1b[K" + ("\n" if r.done else ""))  # clear what a longer line left
        sys.stderr.flush()


def run(args) -> int:
    from explorer.core.runs import RunStore
    from explorer.core.runs.execute import train_run

    config, resume = _config(args)
    store = None if args.no_record else RunStore(getattr(args, "workspace", None))
    progress = Progress(sys.stderr.isatty())
    seen: dict = {}

    def on_start(trainer, run_id):
        seen.update(trainer=trainer, first_step=trainer.step, start=time.perf_counter())

    def on_report(report):
        if report.full:
            seen["last"] = report
        progress.update(report)

    record = train_run(config, store, name=args.name, source="cli", resume_from=resume, out=args.out,
                       on_start=on_start, on_report=on_report,
                       checkpoint_every_s=args.checkpoint_every if args.checkpoint_every > 0 else None)
    trainer, r = seen["trainer"], seen.get("last")
    seconds = time.perf_counter() - seen["start"]
    heldout = record.final_heldout if r is None or r.heldout_loss is None else r.heldout_loss
    summary = {
        "config": args.config, "title": trainer.config.title, "device": record.device,
        "backend": trainer.backend, "steps": trainer.step, "total_steps": trainer.total_steps,
        "loss": getattr(r, "loss", None), "loss_ema": getattr(r, "loss_ema", None), "heldout_loss": heldout,
        "seconds": seconds, "steps_per_s": (trainer.step - seen["first_step"]) / max(seconds, 1e-9),
        "clipped_fraction": getattr(r, "clipped_fraction", None), "status": record.status,
        "message": record.message, "reference_lines": trainer.task.reference_lines(),
        "out": args.out, "run_id": record.id or None, "workspace": str(store.workspace) if store else None,
    }
    summary = strict(summary)
    if args.json:
        print(json.dumps(summary, allow_nan=False))
    else:
        where = f"; run {record.id} in {store.workspace}" if store else ""
        print(f"{summary['status']}: {summary['steps']} steps in {seconds:.1f} s "
              f"({summary['steps_per_s']:.0f} steps/s on {summary['device']}, {summary['backend']} backend); "
              f"loss {summary['loss']}, EMA {summary['loss_ema']}, held-out {heldout}{where}")
    if record.status in ("nonfinite", "diverged"):
        print(f"error: {record.message}", file=sys.stderr)
        return 1
    return 0


def strict(value):
    """JSON-safe: non-finite floats become None, recursively (json.dumps(allow_nan=False) passes)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value
