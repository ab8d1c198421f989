"""Runs as TensorBoard event files (``torch.utils.tensorboard``; ``tensorboard`` is an optional
dependency: ``pip install 'scan-explorer[tensorboard]'``)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ..errors import ExplorerError
from ..lab.metrics import METRIC_COLUMNS
from .compare import config_diff, flatten

NOT_PLOTTED = ("step", "epoch", "total_steps")  # the x axis and bookkeeping, not curves


def summary_writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ExplorerError("writing TensorBoard files needs the tensorboard package: "
                            "pip install 'scan-explorer[tensorboard]' (or pip install tensorboard)") from None
    return SummaryWriter


def export_tensorboard(store, run_ids: list[str], out: str | Path) -> list[Path]:
    """One event folder per run under ``out`` (``<id>[-<name>]``), with every metric column as
    a scalar tag (``loss``, ``heldout_loss``, ``lr``...), the config as text, and the fields
    that differ between the runs as hyperparameters. Returns the folders."""
    SummaryWriter = summary_writer_class()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExplorerError(f"--tensorboard {out} is a file, not a folder; name a folder (it is made if missing)")
    records = [store.get(i) for i in run_ids]
    swept = set()
    for r in records[1:]:
        swept |= set(config_diff(records[0].config, r.config))
    folders = []
    for record in records:
        folder = out / _folder_name(record)
        metrics = store.metrics(record.id)
        try:
            writer = SummaryWriter(log_dir=str(folder))
        except OSError as exc:
            raise ExplorerError(f"--tensorboard {out}: cannot write there ({exc.strerror or exc})") from None
        try:
            steps = metrics["step"]
            for column in METRIC_COLUMNS:
                if column in NOT_PLOTTED:
                    continue
                for step, value in zip(steps, metrics[column]):
                    if math.isfinite(value) and math.isfinite(step):
                        writer.add_scalar(column, float(value), int(step))
            writer.add_text("config", "```\n" + json.dumps(record.config, indent=2) + "\n```")
            flat = flatten(record.config)
            hparams = {k: _hparam(flat.get(k)) for k in sorted(swept)} or {"run": record.id}
            final = {f"final/{k}": v for k, v in (("heldout_loss", record.final_heldout),
                                                  ("best_heldout_loss", record.best_heldout),
                                                  ("loss", record.final_loss)) if v is not None}
            if final:
                writer.add_hparams(hparams, final, run_name=".")
        finally:
            writer.close()
        folders.append(folder)
    return folders


def _folder_name(record) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", record.name).strip("_")[:60]
    return f"{record.id}-{name}" if name else record.id


def _hparam(value):
    return value if isinstance(value, (int, float, str, bool)) else str(value)
