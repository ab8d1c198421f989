"""The run store (Qt-free): every run, from the window, the CLI or a sweep, recorded in a
workspace folder with its config, metrics, checkpoint, status, timings, versions and device.

    store = RunStore(workspace)              # default_workspace() when None
    record = train_run(config, store)        # headless: train and record (explorer.core.runs.execute)
    with store.create(config) as writer:     # or drive a trainer yourself (the window does)
        ...
    store.list(); store.metrics(record.id); store.config(record.id)

``train_run`` is loaded on first use (it imports torch); the rest needs numpy only.
"""

from .compare import config_diff, short_label
from .lock import RunLockedError
from .record import (CRASHED, DIVERGED, FAILED, FINISHED, NONFINITE, PRUNED, RUNNING, STATUSES, STOPPED,
                     RunRecord, UnknownRunError)
from .store import RunStore
from .workspace import default_workspace
from .writer import RunWriter

__all__ = ["RunStore", "RunRecord", "RunWriter", "RunLockedError", "UnknownRunError", "default_workspace",
           "train_run", "config_diff", "short_label", "STATUSES", "RUNNING", "FINISHED", "STOPPED",
           "NONFINITE", "DIVERGED", "FAILED", "PRUNED", "CRASHED"]


def __getattr__(name):
    if name == "train_run":
        from .execute import train_run

        return train_run
    raise AttributeError(f"module 'explorer.core.runs' has no attribute {name!r}")
