"""What a run is: :class:`RunRecord` (read from ``<run>/run.json``), its statuses, and the
atomic JSON file it lives in."""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExplorerError
from ..lab.metrics import atomic_write_text
from ..lab.reports import FINISHED, NONFINITE, RUNNING, STOPPED

# the trainer's own: running (a writer holds the run), finished (every planned step), stopped (on
# request or interrupted; resumable from its checkpoint), nonfinite (a loss or gradient became NaN / inf)
DIVERGED = "diverged"  # the loss ended far above where it started, though finite
FAILED = "failed"  # an exception (the message says which)
PRUNED = "pruned"  # a sweep's pruner ended it early
CRASHED = "crashed"  # shown, never written: "running" on disk but its writer's lock is free (process died)
STATUSES = (RUNNING, FINISHED, STOPPED, NONFINITE, DIVERGED, FAILED, PRUNED, CRASHED)
SOURCES = ("window", "cli", "sweep")

RECORD_FILE = "run.json"
NAME_FILE = "name"  # a rename, written beside run.json so a live writer never overwrites it
FORMAT = "scan-explorer-run/1"
_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4,}$")


class UnknownRunError(ExplorerError):
    """No run with this id in the workspace."""

    def __init__(self, run_id: str, workspace: Path, why: str = ""):
        self.run_id = run_id
        super().__init__(f"no run {run_id!r} in the workspace {workspace}"
                         f"{': ' + why if why else ''}; `python main.py runs` lists them")


@dataclass(frozen=True)
class RunRecord:
    """One run as the store lists it. Times are epoch seconds; losses are None where unknown
    or not finite."""

    id: str  # "20261201-085512-3f9a": sortable by creation time
    name: str = ""  # the user's name for it ("" = none yet)
    status: str = RUNNING  # one of STATUSES
    message: str = ""  # why it ended ("finished", the exception, the non-finite tensor)
    source: str = "cli"  # window | cli | sweep
    sweep: str | None = None  # the sweep's name, for a sweep trial
    trial: int | None = None  # the trial number inside the sweep
    params: dict = field(default_factory=dict)  # a trial's swept values, by dotted field path
    created: float = 0.0  # when the record was made
    started: float | None = None  # when training began (the latest resume's start)
    ended: float | None = None  # when it ended (None while running)
    duration_s: float = 0.0  # time inside the trainer, resumes added up
    steps: int = 0  # optimisation steps done
    total_steps: int | None = None  # planned steps
    final_heldout: float | None = None  # the last held-out loss reported
    best_heldout: float | None = None  # the lowest held-out loss reported
    final_loss: float | None = None  # the last training loss reported
    steps_per_s: float | None = None  # steps / duration_s
    checkpoint_step: int | None = None  # the step of <run>/checkpoint.safetensors (None = none yet)
    device: str = ""  # "cpu (1 thread)", "cuda:0 (NVIDIA H200)"
    backend: str = ""  # the trainer's backend for ordinary steps
    versions: dict = field(default_factory=dict)  # python, torch, numpy, explorer
    config: dict = field(default_factory=dict)  # ExperimentConfig.to_dict()
    path: Path | None = None  # the run's folder

    @property
    def label(self) -> str:
        """The name, or the id when it has none."""
        return self.name or self.id

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in FIELDS if k != "path"}
        return {"format": FORMAT, **{k: _json_safe(v) for k, v in out.items()}}

    @classmethod
    def from_json(cls, data: dict, path: Path | None = None) -> "RunRecord":
        values = {k: data[k] for k in FIELDS if k in data and k != "path"}
        return cls(**values, path=path)


FIELDS = tuple(RunRecord.__dataclass_fields__)


def new_id(now: float | None = None) -> str:
    now = time.time() if now is None else now
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + "-" + secrets.token_hex(2)


def valid_id(run_id: str) -> bool:
    return isinstance(run_id, str) and bool(_ID.match(run_id))


def _json_safe(value):
    """Non-finite floats become None (run.json stays strict JSON); containers recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_json_atomic(path: Path, data: dict, *, fsync: bool = True) -> None:
    """Replace ``path`` atomically (strict JSON: a temp file unique to this writer, then
    ``os.replace``); after a kill -9 the old or the new file is there, whole."""
    atomic_write_text(path, json.dumps(data, indent=1, allow_nan=False) + "\n", fsync=fsync)


def read_record(folder: Path) -> RunRecord | None:
    """The record in ``folder``, or None when it has none (a folder being created or deleted)."""
    try:
        with open(folder / RECORD_FILE, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "id" not in data:
        return None
    try:
        with open(folder / NAME_FILE, encoding="utf-8") as fh:
            data["name"] = fh.read().strip()
    except OSError:
        pass
    try:
        return RunRecord.from_json(data, folder)
    except TypeError:
        return None
