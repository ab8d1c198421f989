"""``RunStore``: every run of a workspace, one folder each under ``<workspace>/runs/<id>/``::

    run.json                 the record (RunRecord as JSON), replaced atomically
    metrics.csv              one row per full report (explorer.core.lab.metrics), append-only
    checkpoint.safetensors   the latest checkpoint (replaced atomically)
    name                     the user's name, when renamed (so a live writer never overwrites it)
    lock                     flock'ed by the run's writer, with its pid

Reading never takes a lock, so the list and the Runs panel can read a run while it trains.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import secrets
import shutil
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ..errors import ExplorerError
from ..lab.config import ExperimentConfig
from ..lab.metrics import MetricsTail, atomic_write_text
from .lock import FolderLock, is_locked
from .record import (CRASHED, NAME_FILE, RUNNING, SOURCES, RunRecord, UnknownRunError, new_id, read_record,
                     valid_id)
from .workspace import default_workspace
from .writer import CHECKPOINT_FILE, METRICS_FILE, RunWriter

NAME_MAX = 200  # characters in a run's name


class RunStore:
    def __init__(self, workspace: str | Path | None = None):
        self.workspace = Path(workspace).expanduser() if workspace else default_workspace()
        self.runs_dir = self.workspace / "runs"
        self._tails: dict[str, MetricsTail] = {}  # metrics read so far, per run
        self._tails_lock = threading.Lock()
        if self.workspace.exists() and not self.workspace.is_dir():
            raise ExplorerError(f"the workspace {self.workspace} is a file, not a folder; "
                                "pass --workspace DIR naming a folder (it is made if missing)")

    # -- writing -------------------------------------------------------------------------------
    def create(self, config: ExperimentConfig, *, name: str | None = None, source: str = "cli",
               sweep: str | None = None, trial: int | None = None, params: dict | None = None,
               run_id: str | None = None) -> RunWriter:
        """A new run (status running) and the writer that holds it. ``run_id`` picks the id
        (from :meth:`new_id`); by default a fresh one."""
        if source not in SOURCES:
            raise ExplorerError(f"run source {source!r} is not one of {', '.join(SOURCES)}")
        if run_id is not None and not valid_id(run_id):
            raise ExplorerError(f"run id {run_id!r} is not of the form 20261201-085512-3f9a; use RunStore.new_id()")
        self._make_runs_dir()
        now = time.time()
        while True:
            rid = run_id or new_id(now)
            folder = self.runs_dir / rid
            try:
                folder.mkdir()
                break
            except FileExistsError:
                if run_id is not None:
                    if read_record(folder) is None:  # made by a writer killed before its first record
                        break
                    raise ExplorerError(f"a run {run_id!r} already exists in {self.runs_dir}") from None
        lock = FolderLock(folder, f"run {rid}").acquire()
        record = RunRecord(id=rid, name=_check_name(name or ""), source=source, sweep=sweep, trial=trial,
                           params=dict(params or {}), created=now, versions=versions(),
                           config=config.to_dict(), total_steps=None, path=folder)
        try:
            return RunWriter(record, lock)
        except BaseException:
            lock.release()
            raise

    def new_id(self) -> str:
        """An id for :meth:`create` (sortable by time); unique once created."""
        return new_id()

    def resume_writer(self, run_id: str, *, step: int) -> RunWriter:
        """The same record, reopened to continue from a checkpoint at ``step``: metric rows past
        ``step`` are dropped, so steps never go backwards or repeat."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ExplorerError(f"resume step must be a whole number >= 0, got {step!r}")
        folder = self._folder(run_id)
        lock = FolderLock(folder, f"run {run_id}").acquire()
        try:
            record = read_record(folder)
            if record is None:
                raise ExplorerError(f"run {run_id}'s record {folder / 'run.json'} is missing or damaged")
            return RunWriter(record, lock, resume_step=step)
        except BaseException:
            lock.release()
            raise

    # -- reading -------------------------------------------------------------------------------
    def list(self) -> list[RunRecord]:
        """Every readable run, newest first."""
        try:
            entries = [e for e in os.scandir(self.runs_dir) if not e.name.startswith(".") and e.is_dir()]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ExplorerError(f"cannot read the workspace {self.workspace}: {exc.strerror or exc}; "
                                "pass --workspace DIR naming a folder") from None
        records = []
        for entry in entries:
            record = read_record(Path(entry.path))
            if record is not None:
                records.append(_shown(record))
        records.sort(key=lambda r: (r.created, r.id), reverse=True)
        return records

    def get(self, run_id: str) -> RunRecord:
        folder = self._folder(run_id)
        record = read_record(folder)
        if record is None:
            raise ExplorerError(f"run {run_id}'s record {folder / 'run.json'} is missing or damaged")
        return _shown(record)

    def find(self, text: str) -> str:
        """The id of the run that ``text`` names: its id, a unique start of an id, or a unique
        name; UnknownRunError naming ``text`` otherwise."""
        if valid_id(text) and (self.runs_dir / text).is_dir():
            return text
        records = self.list()
        hits = [r.id for r in records if r.id.startswith(text)] or [r.id for r in records if r.name == text]
        if len(hits) == 1 and text:
            return hits[0]
        if len(hits) > 1:
            raise UnknownRunError(text, self.workspace, f"{len(hits)} runs match it ({', '.join(hits[:4])}"
                                  f"{', ...' if len(hits) > 4 else ''}); give more of the id")
        raise UnknownRunError(text, self.workspace)

    def metrics(self, run_id: str) -> dict[str, np.ndarray]:
        """The run's metric columns (METRIC_COLUMNS) as read-only float arrays, NaN where blank.
        Read incrementally: asking again for a live run parses only the rows added since."""
        folder = self._folder(run_id)
        with self._tails_lock:
            tail = self._tails.get(run_id)
            if tail is None:
                tail = self._tails[run_id] = MetricsTail(folder / METRICS_FILE)
            return tail.read()

    def config(self, run_id: str) -> ExperimentConfig:
        return ExperimentConfig.from_dict(self.get(run_id).config)

    def checkpoint_path(self, run_id: str) -> Path | None:
        path = self._folder(run_id) / CHECKPOINT_FILE
        return path if path.is_file() else None

    def run_of(self, path: str | Path) -> str | None:
        """The id of the run whose folder holds ``path`` (a run's checkpoint), else None."""
        path = Path(path).resolve()
        try:
            rel = path.relative_to(self.runs_dir.resolve())
        except ValueError:
            return None
        rid = rel.parts[0] if rel.parts else None
        return rid if rid and valid_id(rid) and (self.runs_dir / rid).is_dir() else None

    # -- editing -------------------------------------------------------------------------------
    def rename(self, run_id: str, name: str) -> RunRecord:
        """Give the run a name (also while it trains: the name lives beside the record)."""
        folder = self._folder(run_id)
        atomic_write_text(folder / NAME_FILE, _check_name(name) + "\n")
        return self.get(run_id)

    def delete(self, run_id: str) -> None:
        """Remove the run and its files; refused (RunLockedError) while it is being written."""
        folder = self._folder(run_id)
        lock = FolderLock(folder, f"run {run_id}").acquire()  # a live writer makes this raise
        trash = self.runs_dir / f".deleted-{run_id}-{secrets.token_hex(3)}"
        try:
            os.replace(folder, trash)  # one atomic step out of the list; the files go after
        finally:
            lock.release()
        shutil.rmtree(trash, ignore_errors=True)
        with self._tails_lock:
            self._tails.pop(run_id, None)

    # -- helpers -------------------------------------------------------------------------------
    def _folder(self, run_id: str) -> Path:
        if not valid_id(run_id) or not (self.runs_dir / run_id).is_dir():
            raise UnknownRunError(run_id, self.workspace)
        return self.runs_dir / run_id

    def _make_runs_dir(self) -> None:
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExplorerError(f"cannot make the workspace folder {self.runs_dir}: {exc.strerror or exc}; "
                                "pass --workspace DIR naming a folder you can write") from None


def _shown(record: RunRecord) -> RunRecord:
    """A record as it should be shown: "running" with a free lock means its process died."""
    if record.status == RUNNING and not is_locked(record.path):
        return dataclasses.replace(record, status=CRASHED,
                                   message=record.message or "its process ended without finishing the run")
    return record


def _check_name(name: str) -> str:
    if not isinstance(name, str):
        raise ExplorerError(f"a run name must be text, got {name!r}")
    name = " ".join(name.split())  # one line
    if len(name) > NAME_MAX:
        raise ExplorerError(f"a run name has at most {NAME_MAX} characters; this one has {len(name)}")
    return name


def versions() -> dict:
    """python, torch, numpy and explorer versions (torch only if already loaded or importable)."""
    from explorer import __version__

    out = {"python": platform.python_version(), "numpy": np.__version__, "explorer": __version__}
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:  # pragma: no cover
            torch = None
    out["torch"] = getattr(torch, "__version__", None)
    return out
