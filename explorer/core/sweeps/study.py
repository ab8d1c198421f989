"""A sweep's Optuna study: its storage, the queue of its trials, and what its trials say.

Every trial a sweep will run is queued when the study is made (``WAITING`` trials: grid
points with their params and ``grid_id``, random / TPE trials empty until a worker samples
them); workers pop them with Optuna's own queue, so each point runs exactly once however many
workers join, and a stopped sweep continues with whatever is still queued. The storage has
Optuna's heartbeat: a worker killed with -9 leaves its trial RUNNING with a stale heartbeat,
which the next worker marks FAIL and queues again (``RetryHeartbeatStaleTrialCallback``).

The definition is stored in the study (``user_attrs["definition"]``, base config inline), so
``python main.py sweep worker NAME --storage URL`` on another machine needs nothing else.
"""

from __future__ import annotations

import json
import random
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ExplorerError, FieldProblem
from .definition import POINT_PARAM, SweepDefinition

HEARTBEAT_S = 5  # a running trial's heartbeat (Optuna wants whole seconds)
GRACE_S = 20  # no heartbeat for this long: the trial's worker is gone; fail and retry it
MAX_RETRIES = 3  # a trial whose worker dies this often is left failed (it may be what kills it)
SQLITE_TIMEOUT_S = 60  # how long a writer waits for SQLite's lock (workers share one file)
STUDY_FILE = "sweeps.db"  # the default storage, in the workspace
PRUNER_STARTUP = 3  # the median pruner prunes nothing before this many trials completed
# what a run's identity in the study is made of: changing these means a different sweep
_IDENTITY = ("base", "fields", "points", "changes", "sampler", "n_trials", "objective", "direction", "steps")


def default_storage(workspace: str | Path) -> str:
    """``sqlite:///<workspace>/sweeps.db``: embedded, nothing to start."""
    return f"sqlite:///{Path(workspace).expanduser().resolve() / STUDY_FILE}"


def open_storage(url: str, *, heartbeat_s: int = HEARTBEAT_S, grace_s: int | None = None, pops: bool = True):
    """An Optuna RDBStorage with heartbeat and retry of stale trials. SQLite gets WAL (readers
    never block the workers), a long lock timeout and, where ``pops`` (a worker, which takes
    trials from the queue), ``BEGIN IMMEDIATE`` transactions, so two processes popping at once
    cannot both take the same trial (PostgreSQL locks the row itself). A launcher that only
    watches passes ``pops=False``: its polls then take no write lock."""
    optuna = _optuna()
    from optuna.storages import RDBStorage

    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if retry is not None:  # optuna >= 4.9
        callback = {"heartbeat_stale_trial_callback": retry(max_retry=MAX_RETRIES)}
    else:
        callback = {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=MAX_RETRIES)}
    url = _with_driver(url)
    sqlite = url.startswith("sqlite")
    if sqlite:
        Path(url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if sqlite else {"pool_pre_ping": True}
    try:
        storage = RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=heartbeat_s,
                             grace_period=grace_s or max(GRACE_S, 3 * heartbeat_s), **callback)
    except Exception as exc:  # noqa: BLE001 - a bad URL, a missing driver, a server that does not answer
        raise ConfigError(FieldProblem("storage", f"cannot open {_redact(url)}: {exc}")) from None
    if sqlite:
        _sqlite_hooks(storage.engine, immediate=pops)
    return storage


def _with_driver(url: str) -> str:
    """``postgresql://`` with the driver that is installed: SQLAlchemy 2.1 means psycopg (3) by
    it, 2.0 psycopg2; either works."""
    if not url.startswith(("postgresql://", "postgres://")):
        return url
    import importlib.util

    rest = url.split("://", 1)[1]
    for module, driver in (("psycopg", "psycopg"), ("psycopg2", "psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return f"postgresql+{driver}://{rest}"
    raise ConfigError(FieldProblem("storage", "a PostgreSQL storage needs a driver: pip install psycopg2-binary"))


def _sqlite_hooks(engine, *, immediate: bool) -> None:
    """WAL on every connection; with ``immediate``, SQLAlchemy's recipe: pysqlite's own BEGIN
    off, ``BEGIN IMMEDIATE`` on every transaction."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")  # kept in the file; cheap to repeat
        if immediate:
            dbapi_connection.isolation_level = None

    if immediate:
        @event.listens_for(engine, "begin")
        def _begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections made before the hooks go


def make_sampler(definition: SweepDefinition, *, worker_seed: int | None = None):
    optuna = _optuna()
    if definition.sampler == "grid":
        return _queued_grid_sampler()(definition.search_space(), seed=definition.seed)
    seed = definition.seed if worker_seed is None else hash((definition.seed, worker_seed)) % 2**31
    if definition.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _queued_grid_sampler():
    from optuna.samplers import GridSampler

    class QueuedGridSampler(GridSampler):
        """GridSampler whose trials come from the queue: the queue says when the sweep is done
        (GridSampler's own ``study.stop()`` works only inside ``Study.optimize``)."""

        def after_trial(self, study, trial, state, values) -> None:
            return None

    return QueuedGridSampler


def make_pruner(definition: SweepDefinition):
    optuna = _optuna()
    if not definition.pruning:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP, n_warmup_steps=0)


def create_or_load(definition: SweepDefinition, storage, *, restart: bool = False):
    """The study of ``definition``: made and queued, or loaded to continue. A study of the same
    name with a different definition is refused (rename the sweep, or ``restart``)."""
    optuna = _optuna()
    name = definition.name
    if restart:
        try:
            optuna.delete_study(study_name=name, storage=storage)
        except KeyError:
            pass
    study = optuna.create_study(study_name=name, storage=storage, direction=definition.direction,
                                sampler=make_sampler(definition), pruner=make_pruner(definition),
                                load_if_exists=True)
    stored = study.user_attrs.get("definition")
    if stored is None:
        study.set_user_attr("definition", definition.to_dict())
    elif _identity(stored) != _identity(definition.to_dict()):
        raise ConfigError(FieldProblem("name", f"a different sweep named {name!r} is already in this storage; "
                                       "rename the sweep, or pass --restart to delete the old one and start over"))
    _queue(study, definition)
    return study


def load(name: str, storage, *, worker_seed: int | None = None):
    """(study, definition) of an existing sweep, for a worker."""
    optuna = _optuna()
    try:
        summaries = optuna.get_all_study_names(storage)
    except Exception as exc:  # noqa: BLE001 - the server went away, a schema from another optuna
        raise ConfigError(FieldProblem("storage", f"cannot read the studies: {exc}")) from None
    if name not in summaries:
        known = ", ".join(summaries) or "(none)"
        raise ConfigError(FieldProblem("name", f"no sweep {name!r} in this storage; sweeps there: {known}. "
                                       "Start it with `python main.py sweep NAME_OR_FILE --storage URL`"))
    probe = optuna.load_study(study_name=name, storage=storage)
    definition = SweepDefinition.from_dict(probe.user_attrs["definition"])
    study = optuna.load_study(study_name=name, storage=storage, pruner=make_pruner(definition),
                              sampler=make_sampler(definition, worker_seed=worker_seed))
    return study, definition


def _queue(study, definition: SweepDefinition) -> None:
    """Queue every trial not queued yet (idempotent: a launcher that died halfway re-queues the rest)."""
    optuna = _optuna()
    from optuna.distributions import CategoricalDistribution

    queued = {t.user_attrs.get("queued") for t in study.get_trials(deepcopy=False)}
    space = definition.search_space()
    for index in range(definition.total):
        if index in queued:
            continue
        if definition.sampler == "grid":
            params = _grid_params(definition, index)
            trial = optuna.trial.create_trial(
                state=optuna.trial.TrialState.WAITING, params=params,
                distributions={k: CategoricalDistribution(space[k]) for k in params},
                system_attrs={"grid_id": index, "search_space": {k: space[k] for k in sorted(space)}},
                user_attrs={"queued": index})
        else:
            trial = optuna.trial.create_trial(state=optuna.trial.TrialState.WAITING, user_attrs={"queued": index})
        study.add_trial(trial)


def _grid_params(definition: SweepDefinition, index: int) -> dict:
    if definition.points:
        return {POINT_PARAM: index}
    return definition.grid()[index]


def suggest(trial, definition: SweepDefinition) -> dict:
    """The trial's optuna params (a queued grid trial has them; random / TPE sample them)."""
    space = definition.search_space()
    if definition.sampler == "grid":
        return {k: trial.suggest_categorical(k, space[k]) for k in space}
    out = {}
    for f in definition.fields:
        integer = all(isinstance(v, int) and not isinstance(v, bool) for v in f.values)
        if f.kind in ("linear", "log") and f.low != f.high:
            log = f.kind == "log"
            if integer:
                out[f.path] = trial.suggest_int(f.path, int(f.low), int(f.high), log=log)
            else:
                out[f.path] = trial.suggest_float(f.path, f.low, f.high, log=log)
        else:
            out[f.path] = trial.suggest_categorical(f.path, list(f.values))
    return out


# -- what the trials say ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TrialResult:
    """One point of the sweep: its latest attempt."""

    number: int  # the latest attempt's trial number
    index: int  # the point's place in the sweep (0-based; grid: the grid point)
    point: dict  # dotted field -> value ({} while a random / TPE trial waits to be sampled)
    state: str  # waiting | running | complete | failed | pruned
    objective: float | None  # the metric the sweep optimises (complete trials)
    run_id: str | None  # the run in the store (None before it starts, or when it failed to build)
    message: str  # why it failed, was pruned or was retried
    attempts: int  # 1, or more where a worker died or was stopped and the trial ran again
    started: float | None = None  # epoch seconds the latest attempt started (None: waiting)
    ended: float | None = None  # epoch seconds it ended (None: not yet)

    def to_json(self) -> dict:
        return {"trial": self.number, "index": self.index, "params": self.point, "state": self.state,
                "objective": self.objective, "run_id": self.run_id, "message": self.message,
                "attempts": self.attempts, "seconds": None if self.ended is None or self.started is None
                else round(self.ended - self.started, 3)}


def results(study, definition: SweepDefinition) -> list[TrialResult]:
    """One result per queued point, in the sweep's order (trials added by other tools left out)."""
    latest: dict[int, list] = {}
    for t in study.get_trials(deepcopy=False):
        index = t.user_attrs.get("queued")
        if index is None:  # not one of the sweep's (e.g. added by hand in a dashboard)
            continue
        latest.setdefault(index, []).append(t)
    out = []
    for index in sorted(latest):
        attempts = sorted(latest[index], key=lambda t: t.number)
        t = attempts[-1]
        state = t.state.name.lower().replace("fail", "failed")
        point = definition.point_of(t.params) if t.params else {}
        objective = t.value if state == "complete" else None
        out.append(TrialResult(t.number, index, point, state, objective, t.user_attrs.get("run_id"),
                               t.user_attrs.get("message", ""), len(attempts), _epoch(t.datetime_start),
                               _epoch(t.datetime_complete)))
    return out


def counts(study, definition: SweepDefinition) -> dict[str, int]:
    """How many points are waiting, running and done (complete, failed or pruned)."""
    out = {"total": definition.total, "waiting": 0, "running": 0, "done": 0, "complete": 0, "failed": 0,
           "pruned": 0}
    for r in results(study, definition):
        if r.state in ("waiting", "running"):
            out[r.state] += 1
        else:
            out["done"] += 1
            out[r.state] = out.get(r.state, 0) + 1
    return out


def _epoch(when) -> float | None:
    return None if when is None else when.timestamp()  # optuna stores naive local times


def _identity(d: dict) -> str:
    return json.dumps({k: d.get(k) for k in _IDENTITY}, sort_keys=True)


def _redact(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, cred = head.partition("://")
    if ":" not in cred:
        return url
    return f"{scheme}://{cred.split(':', 1)[0]}:***@{tail}"


def _optuna():
    try:
        import optuna
    except ImportError:  # pragma: no cover - a dependency
        raise ExplorerError("sweeps need optuna: pip install 'optuna>=4'") from None
    if optuna.logging.get_verbosity() < optuna.logging.WARNING:
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module="optuna")
    return optuna


def worker_seed() -> int:
    """A per-process seed for random / TPE samplers (workers must not draw the same points)."""
    return random.SystemRandom().randrange(2**31)
