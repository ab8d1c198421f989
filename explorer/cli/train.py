"""``python main.py train NAME_OR_FILE [--steps N] [--epochs N] [--device D] [--out DIR] [--json]``

Train headless from a training preset, a config .json file, or a checkpoint
(.safetensors / .pt: the run continues where it stopped). A progress bar goes to stderr
on a terminal; ``--json`` prints one JSON object, alone on stdout, at the end; ``--out``
writes ``config.json``, ``checkpoint.safetensors`` and ``metrics.csv``.
"""

from __future__ import annotations

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
    p.add_argument("--out", metavar="DIR", help="write config.json, checkpoint.safetensors and metrics.csv here")
    p.add_argument("--json", action="store_true", help="print one JSON summary on stdout")
    p.set_defaults(run=run)


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


def _trainer(args):
    import dataclasses

    from explorer.core.errors import ConfigError
    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.lab.persistence import CHECKPOINT_SUFFIXES
    from explorer.core.lab.training import Trainer
    from explorer.core.presets import resolve

    changes = _changes(args)
    if args.config.endswith(CHECKPOINT_SUFFIXES):
        return Trainer.resume(args.config, **changes)
    config = ExperimentConfig.from_dict(resolve("train", args.config))
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, **changes))
    problems = config.validate()
    if problems:
        raise ConfigError(problems)
    return Trainer(config)


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
    from pathlib import Path

    from explorer.core.lab.device import describe
    from explorer.core.lab.persistence import MetricsWriter, save_config

    trainer = _trainer(args)
    out = Path(args.out) if args.out else None
    metrics = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        save_config(out / "config.json", trainer.config)
        metrics = MetricsWriter(out / "metrics.csv", append=trainer.step > 0)
    progress = Progress(sys.stderr.isatty())
    start, first_step, last_full = time.perf_counter(), trainer.step, None
    try:
        for report in trainer.reports():
            if report.full:
                last_full = report
                if metrics:
                    metrics.write(report)
            progress.update(report)
    finally:
        if metrics:
            metrics.close()
    seconds = time.perf_counter() - start
    if out is not None and last_full is not None and last_full.status != "nonfinite":
        trainer.checkpoint(out / "checkpoint.safetensors")
    r = last_full
    heldout = r.heldout_loss if r.heldout_loss is not None else trainer.evaluate()
    summary = {
        "config": args.config, "title": trainer.config.title, "device": describe(trainer.device),
        "backend": trainer.backend, "steps": trainer.step, "total_steps": trainer.total_steps,
        "loss": _finite(r.loss), "loss_ema": _finite(r.loss_ema), "heldout_loss": _finite(heldout),
        "seconds": seconds, "steps_per_s": (trainer.step - first_step) / max(seconds, 1e-9),
        "clipped_fraction": r.clipped_fraction, "status": r.status, "message": r.message,
        "reference_lines": trainer.task.reference_lines(), "out": str(out) if out else None,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['status']}: {summary['steps']} steps in {seconds:.1f} s "
              f"({summary['steps_per_s']:.0f} steps/s on {summary['device']}, {summary['backend']} backend); "
              f"loss {r.loss}, EMA {r.loss_ema}, held-out {heldout}")
    if r.status == "nonfinite":
        print(f"error: {r.message}", file=sys.stderr)
        return 1
    return 0


def _finite(x):
    return x if x is None or math.isfinite(x) else None
