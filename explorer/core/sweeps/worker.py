"""A sweep worker: one process that runs queued trials until the sweep has none left.

``python main.py sweep worker NAME --storage URL`` runs :func:`run_worker`. Each trial is
one run in the workspace's RunStore (``train_run``, source "sweep"), its run id kept as the
trial's user attr ``run_id``. Optuna does the rest: the queue (a compare-and-set pop), the
heartbeat's staleness check and retry, sampling, pruning.

- A trial that raises or ends non-finite is FAIL with its ``message``; the sweep goes on.
- SIGTERM / SIGINT stop the current trial cleanly (its run ends "stopped") and queue it
  again, so a resumed sweep runs it from the start.
- While no trial is queued but some are running, the worker waits: a worker killed with -9
  leaves a trial whose heartbeat goes stale, and this worker fails and retries it.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from ..errors import ExplorerError
from . import study as studies

POLL_S = 1.0  # while waiting for other workers' trials (a cheap query)
FAILED_STATES = ("failed", "nonfinite", "diverged", "crashed")  # run statuses that fail the trial


class TrialFailed(Exception):
    """A trial whose run failed; optuna records it FAIL (caught: the sweep goes on)."""


class TrialStopped(Exception):
    """A trial stopped on request; queued again before this is raised."""


def _pruned_class():
    import optuna

    class TrialPrunedRun(optuna.TrialPruned):
        """Raised from ``on_report``: optuna records PRUNED, the run store ``pruned``."""

        run_status = "pruned"

    return TrialPrunedRun


class SweepWorker:
    def __init__(self, name: str, storage_url: str, workspace: str | Path | None = None, *,
                 heartbeat_s: int = studies.HEARTBEAT_S, grace_s: int | None = None):
        from ..runs import RunStore

        self.name, self.url = name, storage_url
        self.store = RunStore(workspace)
        self.storage = studies.open_storage(storage_url, heartbeat_s=heartbeat_s, grace_s=grace_s)
        self.study, self.definition = studies.load(name, self.storage, worker_seed=studies.worker_seed())
        self.study_id = self.storage.get_study_id_from_name(name)
        self.heartbeat_s = heartbeat_s
        self._stop = threading.Event()
        self._control = None
        self._pruned = _pruned_class()
        self.trials_run = 0

    def stop(self) -> None:
        """Stop after the current step; the current trial goes back to the queue."""
        self._stop.set()
        control = self._control
        if control is not None:
            control.request_stop()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> int:
        """Run trials until none is queued or running, or until stopped. Returns trials run."""
        import optuna
        from optuna.trial import TrialState

        while not self._stop.is_set():
            optuna.storages.fail_stale_trials(self.study)  # a dead worker's trial: FAIL + queued again
            trial_id = self._pop()
            if trial_id is not None:
                self._run_trial(optuna.trial.Trial(self.study, trial_id), trial_id)
            elif any(t.state == TrialState.RUNNING for t in self.study.get_trials(deepcopy=False)):
                self._stop.wait(POLL_S)  # other workers' trials; one of them may be a dead worker's
            else:
                break
        return self.trials_run

    def _pop(self) -> int | None:
        """A queued trial, now RUNNING and ours; None when the queue is empty. Optuna's own
        compare-and-set (``set_trial_state_values`` refuses a trial that is no longer WAITING),
        so two workers never take the same trial, and none is ever created outside the queue."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        storage, study_id = self.storage, self.study_id
        for t in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
            trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
            try:
                if storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                    return trial_id
            except UpdateFinishedTrialError:
                continue
        return None

    def _run_trial(self, trial, trial_id: int) -> None:
        """The objective under a heartbeat, then ``study.tell``: COMPLETE, PRUNED or FAIL."""
        import optuna
        from optuna.trial import TrialState

        with _Heartbeat(self.storage, trial_id, self.heartbeat_s):
            try:
                value = self._objective(trial)
            except optuna.TrialPruned:
                self.study.tell(trial, state=TrialState.PRUNED)
            except (TrialFailed, TrialStopped):
                self.study.tell(trial, state=TrialState.FAIL)
            except BaseException:
                self.study.tell(trial, state=TrialState.FAIL)
                raise
            else:
                self.study.tell(trial, value)

    # -- one trial -----------------------------------------------------------------------------
    def _objective(self, trial) -> float:
        from ..lab.control import TrainControl
        from ..runs import train_run

        trial.set_user_attr("run_id", None)
        trial.set_user_attr("message", "")
        trial.set_user_attr("worker", f"{os.uname().nodename}:{os.getpid()}")
        d = self.definition
        point = d.point_of(studies.suggest(trial, d))
        control = TrainControl()
        self._control = control
        if self._stop.is_set():
            control.request_stop()

        def on_report(report):
            if d.pruning and report.heldout_loss is not None and not report.done:
                trial.report(report.heldout_loss, report.step)
                if trial.should_prune():
                    raise self._pruned(f"pruned at step {report.step}: held-out loss {report.heldout_loss:.4g} "
                                       "is worse than the median of earlier trials there")

        label = ", ".join(f"{k.split('.')[-1]} {v}" for k, v in point.items())
        run_id = self.store.new_id()
        while (self.store.runs_dir / run_id).exists():  # an existing id would mean "continue that run"
            run_id = self.store.new_id()
        trial.set_user_attr("run_id", run_id)  # before the run exists: a kill -9 at any moment leaves it named
        try:
            try:
                record = train_run(d.config_for(point), self.store, name=f"{d.name} #{trial.number}: {label}",
                                   source="sweep", sweep=d.name, trial=trial.number, params=point,
                                   control=control, on_report=on_report, run_id=run_id)
            except BaseException:
                if not (self.store.runs_dir / run_id).is_dir():  # it failed before its run was made
                    trial.set_user_attr("run_id", None)
                raise
        except self._pruned as exc:
            trial.set_user_attr("message", str(exc))
            raise
        except ExplorerError as exc:
            trial.set_user_attr("message", str(exc))
            raise TrialFailed(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - a bug or the machine; the sweep goes on, the message says which
            message = f"{type(exc).__name__}: {exc}"
            trial.set_user_attr("message", message)
            raise TrialFailed(message) from None
        finally:
            self._control = None
            self.trials_run += 1
        if record.status == "stopped":
            self._requeue(trial)
            raise TrialStopped(record.message)
        if record.status in FAILED_STATES:
            trial.set_user_attr("message", record.message or record.status)
            raise TrialFailed(record.message or record.status)
        value = getattr(record, d.objective)
        if value is None:
            message = f"the run has no {d.objective} (it reported none)"
            trial.set_user_attr("message", message)
            raise TrialFailed(message)
        trial.set_user_attr("message", record.message)
        return float(value)

    def _requeue(self, trial) -> None:
        """The stopped trial again, WAITING, with its params: Optuna's retry callback, unlimited."""
        import optuna

        retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) or \
            optuna.storages.RetryFailedTrialCallback
        frozen = next(t for t in self.study.get_trials(deepcopy=True) if t.number == trial.number)
        frozen.user_attrs["message"] = ""
        retry(max_retry=None)(self.study, frozen)
        trial.set_user_attr("message", "stopped on request; queued again")


class _Heartbeat:
    """Records the trial's heartbeat every ``interval`` seconds while the trial runs (what
    ``Study.optimize`` does; a worker killed with -9 stops it, and its trial goes stale)."""

    def __init__(self, storage, trial_id: int, interval: float):
        self.storage, self.trial_id, self.interval = storage, trial_id, interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{trial_id}", daemon=True)

    def _beat(self) -> None:
        while True:
            self.storage.record_heartbeat(self.trial_id)
            if self._done.wait(self.interval):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def run_worker(name: str, storage_url: str, workspace: str | Path | None = None, *,
               heartbeat_s: int = studies.HEARTBEAT_S, grace_s: int | None = None) -> int:
    """The worker process's main: one torch thread, SIGTERM / SIGINT stop cleanly."""
    import optuna
    import torch

    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are in the trials' messages
    worker = SweepWorker(name, storage_url, workspace, heartbeat_s=heartbeat_s, grace_s=grace_s)
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, lambda signum, frame: worker.stop())
    try:
        return worker.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
