"""Sweeps on the default storage (SQLite in the workspace) with real worker processes: every
point once, failures recorded and passed over, stop and kill -9 resumed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from sweep_helpers import (
    TINY,
    assert_ran_exactly_once,
    launcher,
    run_to_end,
    tiny_sweep,
)

from explorer.core.runs import RunStore
from explorer.core.sweeps import default_storage

ROOT = Path(__file__).resolve().parents[1]


def test_two_workers_on_sqlite_run_every_point_exactly_once(tmp_path):
    d = tiny_sweep("sq")
    la = launcher(d, tmp_path)
    assert la.storage_url == default_storage(tmp_path) and la.storage_url.endswith("/sweeps.db")
    run_to_end(la)
    assert len(la.processes) == 2
    assert_ran_exactly_once(d, la, tmp_path)
    study = optuna.load_study(study_name="sq", storage=la.storage_url)
    assert len(study.trials) == d.total  # no surplus and no repeat
    assert {t.number: t.user_attrs["run_id"] for t in study.trials} == {r.number: r.run_id for r in la.results()}
    workers = {t.user_attrs["worker"] for t in study.trials}
    assert len(workers) == 2  # both processes took trials


def test_failing_and_nonfinite_trials_are_recorded_failed_and_the_sweep_goes_on(tmp_path):
    d = tiny_sweep("faults", points=[{"train.device": "cuda:99"},  # no such GPU anywhere: fails to build
                                     {"train.lr": 1e9, "train.optimizer": "sgd", "train.clip_norm": 0.0},
                                     {"model.hidden_size": 5}])
    la = launcher(d, tmp_path)
    run_to_end(la)
    build, nonfinite, fine = la.results()
    assert build.state == "failed" and "train.device" in build.message
    failed = RunStore(tmp_path).get(build.run_id)  # the Runs panel shows it too, failed with the message
    assert failed.status == "failed" and "train.device" in failed.message and failed.sweep == "faults"
    assert nonfinite.state == "failed" and "non-finite" in nonfinite.message
    assert RunStore(tmp_path).get(nonfinite.run_id).status == "nonfinite"
    assert fine.state == "complete" and fine.objective > 0
    assert la.status(fresh=True).failed == 2


def test_cli_json_and_a_sigterm_stopped_sweep_continues_where_it_left_off(tmp_path):
    spec = tmp_path / "stop.json"
    # trials long enough (3,000 steps) that SIGTERM lands mid-trial even on a quiet machine
    spec.write_text(json.dumps({"name": "stop", "base": "default", "steps": 3000, "workers": 1,
                                "changes": {**TINY, "train.report_every": 20, "train.eval_every": 200,
                                            "model.hidden_size": 4},
                                "fields": {"train.seed": [1, 2]}}))
    cmd = [sys.executable, "main.py", "sweep", str(spec), "--workspace", str(tmp_path), "--json",
           "--heartbeat", "1", "--grace", "3"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = RunStore(tmp_path)
    deadline = time.monotonic() + 60
    while not any(r.status == "running" for r in store.list()):  # created: training starts
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    first = json.loads(out)
    assert first["stopped"] and first["done"] < 2 and "run the same command to continue" in err
    stopped = [r for r in store.list() if r.status == "stopped"]
    assert len(stopped) == 1 and stopped[0].sweep == "stop"
    again = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["sweep"] == "stop" and summary["done"] == 2 and not summary["stopped"]
    assert [t["params"] for t in summary["trials"]] == [{"train.seed": 1}, {"train.seed": 2}]
    assert all(t["state"] == "complete" and t["objective"] is not None and t["run_id"] for t in summary["trials"])
    retried = [t for t in summary["trials"] if t["attempts"] == 2]
    assert len(retried) == 1  # the stopped one ran again from the start
    finished = [r for r in store.list() if r.status == "finished"]
    assert sorted(r.params["train.seed"] for r in finished) == [1, 2]


def test_a_worker_killed_with_sigkill_leaves_its_trial_failed_and_a_resumed_sweep_retries_it(tmp_path):
    d = tiny_sweep("kill", steps=600, fields={"train.seed": [1, 2]},
                   changes={**TINY, "train.report_every": 20, "train.eval_every": 200, "model.hidden_size": 4})
    la = launcher(d, tmp_path, workers=1)
    la.start()
    store = RunStore(tmp_path)
    deadline = time.monotonic() + 60
    while not any(r.status == "running" for r in store.list()):  # created: training starts
        assert time.monotonic() < deadline and la.running, la.worker_log(0)
        time.sleep(0.05)
    os.kill(la.processes[0].pid, signal.SIGKILL)
    la.processes[0].wait(timeout=10)
    (victim,) = [r for r in store.list() if r.status in ("running", "crashed")]
    assert victim.status == "crashed"  # its writer's lock died with it
    assert la.status(fresh=True).running == 1  # optuna still thinks it runs: its heartbeat will go stale

    resumed = launcher(d, tmp_path, workers=1)  # the same command again
    run_to_end(resumed)
    results = resumed.results()
    assert all(r.state == "complete" for r in results)
    retried = [r for r in results if r.attempts == 2]
    assert len(retried) == 1 and retried[0].point == victim.params
    study = optuna.load_study(study_name="kill", storage=resumed.storage_url)
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(failed) == 1 and failed[0].user_attrs["run_id"] == victim.id  # the killed attempt: FAIL
    finished = [r for r in store.list() if r.status == "finished"]
    assert sorted(r.params["train.seed"] for r in finished) == [1, 2]


def test_pruning_ends_a_trial_whose_heldout_loss_is_above_the_median_at_an_evaluation_step(tmp_path):
    good = [{"train.seed": s, "train.lr": 0.02} for s in range(3)]  # the median pruner's first 3 trials
    d = tiny_sweep("prune", steps=60, pruning=True, points=[*good, {"train.seed": 3, "train.lr": 1e-9}])
    la = launcher(d, tmp_path, workers=1)  # one worker: the three good trials finish first
    run_to_end(la)
    *done, slow = la.results()
    assert [r.state for r in done] == ["complete"] * 3
    assert slow.state == "pruned" and "pruned at step 10" in slow.message
    record = RunStore(tmp_path).get(slow.run_id)
    assert record.status == "pruned" and record.steps < 60
