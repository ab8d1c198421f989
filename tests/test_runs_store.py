"""The run store: a run's record, metrics, config and checkpoint round trip; listing 1,000 runs
takes under a second; one writer per run, in this process or another; train_run's statuses."""

import dataclasses
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from explorer.core.errors import ExplorerError
from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.metrics import METRIC_COLUMNS
from explorer.core.lab.reports import StepReport
from explorer.core.lab.training import Trainer
from explorer.core.runs import (CRASHED, FAILED, FINISHED, RUNNING, STOPPED, RunLockedError, RunRecord, RunStore,
                                UnknownRunError, config_diff, default_workspace, short_label, train_run)
from explorer.core.runs.record import write_json_atomic

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ExperimentConfig(task=TaskConfig(max_len=8, heldout_size=16), model=ModelConfig(hidden_size=8),
                          train=TrainConfig(steps=20, batch_size=4, report_every=2, eval_every=10, flow_every=0,
                                            probe_every=0))


def test_a_run_round_trips(tmp_path):
    store = RunStore(tmp_path)
    trainer = Trainer(CONFIG)
    with store.create(CONFIG, name="tiny", source="window") as writer:
        assert writer.path == store.runs_dir / writer.id and (writer.path / "run.json").is_file()
        assert store.get(writer.id).status == RUNNING  # visible, not "crashed", while its writer lives
        writer.describe(trainer)
        for report in trainer.reports():
            writer.write(report)
        writer.save_checkpoint(trainer)
        record = writer.finish(report.status, report.message)
    assert record == store.get(writer.id) == store.list()[0]
    assert record.status == FINISHED and record.name == "tiny" and record.source == "window"
    assert record.steps == record.total_steps == 20 and record.checkpoint_step == 20
    assert record.final_heldout == report.heldout_loss and record.best_heldout <= record.final_heldout
    assert record.final_loss == report.loss and record.duration_s > 0 and record.steps_per_s > 0
    assert record.started >= record.created and record.ended >= record.started
    assert record.device.startswith("cpu") and set(record.versions) == {"python", "torch", "numpy", "explorer"}
    assert store.config(record.id) == CONFIG
    metrics = store.metrics(record.id)
    assert set(metrics) == set(METRIC_COLUMNS) and all(isinstance(v, np.ndarray) for v in metrics.values())
    assert metrics["step"].tolist() == list(range(2, 21, 2))
    assert np.isnan(metrics["heldout_loss"][0]) and metrics["heldout_loss"][-1] == record.final_heldout
    resumed = Trainer.resume(store.checkpoint_path(record.id))
    assert resumed.step == 20
    assert store.rename(record.id, "renamed  twice\n").name == "renamed twice"
    assert store.list()[0].name == "renamed twice"
    store.delete(record.id)
    assert store.list() == []
    with pytest.raises(UnknownRunError, match=record.id):
        store.get(record.id)


def test_unknown_ids_are_named(tmp_path):
    store = RunStore(tmp_path)
    for call in (store.get, store.metrics, store.config, store.checkpoint_path, store.delete, store.find):
        with pytest.raises(UnknownRunError, match="20990101-000000-dead") as err:
            call("20990101-000000-dead")
        assert isinstance(err.value, ExplorerError)
    with pytest.raises(UnknownRunError, match="'../etc'"):
        store.get("../etc")
    with pytest.raises(UnknownRunError):
        store.resume_writer("20990101-000000-dead", step=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExplorerError, match="is a file"):
        RunStore(tmp_path / "file")


def _fake_run(store: RunStore, i: int, status: str) -> None:
    """A run folder exactly as a writer leaves it (record + metrics), without training."""
    rid = f"20260101-{i // 3600 % 24:02d}{i // 60 % 60:02d}{i % 60:02d}-{i:04x}"
    folder = store.runs_dir / rid
    folder.mkdir(parents=True)
    record = RunRecord(id=rid, name=f"run {i}", status=status, created=1_700_000_000 + i, steps=100,
                       total_steps=100, final_heldout=1.0 / (i + 1), config=CONFIG.to_dict(), path=folder)
    write_json_atomic(folder / "run.json", record.to_json(), fsync=False)
    (folder / "metrics.csv").write_text(",".join(METRIC_COLUMNS) + "\n" + "1,0,100,0.5" + "," * 9 + "\n")
    (folder / "lock").write_text("")


def test_listing_1000_runs_takes_under_a_second(tmp_path):
    store = RunStore(tmp_path)
    for i in range(1000):
        _fake_run(store, i, RUNNING if i % 10 == 0 else FINISHED)  # 100 "running" ones: each lock is probed
    best = min(_timed(store.list) for _ in range(3))
    records = store.list()
    print(f"\nlisting 1,000 runs: {best * 1000:.0f} ms")
    assert len(records) == 1000 and best < 1.0
    assert [r.created for r in records] == sorted((r.created for r in records), reverse=True)  # newest first
    assert sum(r.status == CRASHED for r in records) == 100  # "running" with nobody holding the lock


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_one_writer_per_run_in_this_process(tmp_path):
    store = RunStore(tmp_path)
    writer = store.create(CONFIG)
    with pytest.raises(RunLockedError, match=f"run {writer.id}.*process {os.getpid()}"):
        store.resume_writer(writer.id, step=0)
    with pytest.raises(RunLockedError, match=writer.id):
        store.delete(writer.id)
    writer.close()
    assert store.get(writer.id).status == STOPPED
    store.resume_writer(writer.id, step=0).finish(FINISHED, "done")
    store.delete(writer.id)


HOLDER = """
import sys, time
from explorer.core.lab.config import ExperimentConfig
from explorer.core.runs import RunStore
writer = RunStore(sys.argv[1]).create(ExperimentConfig())
print(writer.id, flush=True)
time.sleep(120)
"""


def test_two_processes_cannot_write_one_run_and_a_dead_writer_shows_as_crashed(tmp_path):
    store = RunStore(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        run_id = child.stdout.readline().strip()
        assert store.get(run_id).status == RUNNING
        with pytest.raises(RunLockedError, match=f"run {run_id} is being written by process {child.pid}"):
            store.resume_writer(run_id, step=0)
        with pytest.raises(RunLockedError, match=str(child.pid)):
            store.delete(run_id)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    assert store.get(run_id).status == CRASHED  # the kernel let its lock go with the process
    with store.resume_writer(run_id, step=0) as writer:  # so the run can be taken over
        assert store.get(run_id).status == RUNNING
        writer.finish(STOPPED, "taken over")
    assert store.get(run_id).message == "taken over"


def test_resume_writer_drops_the_rows_past_the_checkpoint(tmp_path):
    store = RunStore(tmp_path)
    with store.create(CONFIG) as writer:
        for step in range(1, 11):
            writer.write(StepReport(step, full=True, loss=float(step), heldout_loss=10.0 - step, elapsed_s=step))
        writer.finish(STOPPED)
    assert store.get(writer.id).best_heldout == 0.0
    with store.resume_writer(writer.id, step=6) as again:
        record = again.record
        assert store.metrics(writer.id)["step"].tolist() == [1, 2, 3, 4, 5, 6]
        assert (record.steps, record.final_loss, record.best_heldout, record.duration_s) == (6, 6.0, 4.0, 6.0)
        again.write(StepReport(5, full=True, loss=99.0))  # never backwards
        again.write(StepReport(7, full=True, loss=7.0))
        again.finish(FINISHED)
    assert store.metrics(writer.id)["loss"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert store.get(writer.id).id == writer.id and len(store.list()) == 1


class Boom(Exception):
    run_status = "pruned"


def test_train_run_records_what_ended_it(tmp_path):
    store = RunStore(tmp_path)
    seen = []
    record = train_run(CONFIG, store, name="ok", on_report=seen.append, params={"model.hidden_size": 8})
    assert record.status == FINISHED and record.steps == 20 and len(seen) == 20
    assert store.checkpoint_path(record.id) is not None and record.params == {"model.hidden_size": 8}

    def prune(report):
        if report.step == 6:
            raise Boom("trial pruned at step 6")

    with pytest.raises(Boom):
        train_run(CONFIG, store, on_report=prune, source="sweep", sweep="s", trial=3)
    pruned = store.list()[0]
    assert (pruned.status, pruned.message, pruned.sweep, pruned.trial) == ("pruned", "Boom: trial pruned at step 6",
                                                                          "s", 3)
    assert store.metrics(pruned.id)["step"].tolist() == [2, 4, 6]

    def fail(report):
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        train_run(CONFIG, store, on_report=fail)
    assert store.list()[0].status == FAILED and "disk on fire" in store.list()[0].message

    def interrupt(report):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_run(CONFIG, store, on_report=interrupt)
    assert store.list()[0].status == STOPPED


def test_train_run_continues_a_run_and_a_preassigned_id(tmp_path):
    store = RunStore(tmp_path)
    rid = store.new_id()
    first = train_run(CONFIG, store, run_id=rid)
    assert first.id == rid
    longer = dataclasses.replace(CONFIG, train=dataclasses.replace(CONFIG.train, steps=30))
    again = train_run(longer, store, run_id=rid)  # an existing id: continue from its checkpoint
    assert again.id == rid and again.steps == 30 and len(store.list()) == 1
    assert store.metrics(rid)["step"].tolist() == list(range(2, 31, 2))
    other = dataclasses.replace(longer, model=dataclasses.replace(CONFIG.model, hidden_size=9))
    with pytest.raises(ExplorerError, match="model.hidden_size"):
        train_run(other, store, resume_from=store.checkpoint_path(rid))


def test_config_diff_and_short_label():
    base = CONFIG.to_dict()
    other = dataclasses.replace(CONFIG, model=dataclasses.replace(CONFIG.model, hidden_size=32), title="x").to_dict()
    assert config_diff(base, other) == {"model.hidden_size": (8, 32)}
    assert short_label(config_diff(base, other)) == "hidden 32"
    lr_clip = dataclasses.replace(CONFIG, train=dataclasses.replace(CONFIG.train, lr=0.01, clip_norm=0.0)).to_dict()
    assert short_label(config_diff(base, lr_clip)) == "lr 0.01, clip off"
    cells = dataclasses.replace(CONFIG, model=dataclasses.replace(CONFIG.model, cell="gru"),
                                task=dataclasses.replace(CONFIG.task, name="copy")).to_dict()
    assert short_label(config_diff(base, cells)) == "copy, gru"
    assert config_diff(base, base) == {} and short_label({}) == ""


def test_a_custom_cell_reads_as_one_short_label():
    """A custom cell is a nested section: its lists of params and expressions never spill into a
    legend or the Runs table as dicts."""
    from explorer.core.lab import ExperimentConfig
    from explorer.core.presets import load_preset

    indrnn = load_preset("train", "indrnn")
    base = ExperimentConfig.from_dict({**indrnn, "model": {**indrnn["model"], "cell": "vanilla", "custom": None}})
    custom = ExperimentConfig.from_dict(indrnn)
    label = short_label(config_diff(base.to_dict(), custom.to_dict()))
    assert label == "custom", label  # the cell's name says it; its fields are not listed one by one
    back = short_label(config_diff(custom.to_dict(), base.to_dict()))  # and the other way round
    assert back == "vanilla", back
    other = indrnn["model"]["custom"]
    changed = {**indrnn, "model": {**indrnn["model"], "custom": {**other, "expressions": ["tanh(x @ W + u * h_tm1 + b)"]}}}
    label = short_label(config_diff(custom.to_dict(), ExperimentConfig.from_dict(changed).to_dict()))
    assert label == "expressions tanh(x @ W + u * h_tm1 + b)", label
    params = {**indrnn, "model": {**indrnn["model"], "custom": {**other, "params": other["params"][:2]}}}
    assert "{" not in short_label(config_diff(custom.to_dict(), ExperimentConfig.from_dict(params).to_dict()))


def test_default_workspace(monkeypatch, tmp_path):
    monkeypatch.setenv("SCAN_EXPLORER_WORKSPACE", str(tmp_path / "w"))
    assert default_workspace() == tmp_path / "w" and RunStore().workspace == tmp_path / "w"
    monkeypatch.delenv("SCAN_EXPLORER_WORKSPACE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if sys.platform.startswith("linux"):
        assert default_workspace() == tmp_path / "data" / "scan-explorer" / "workspace"


def test_run_json_is_strict_json(tmp_path):
    store = RunStore(tmp_path)
    with store.create(CONFIG) as writer:
        writer.finish("nonfinite", "loss became nan", StepReport(3, full=True, loss=math.nan, grad_norm=math.inf))
    text = (writer.path / "run.json").read_text()
    record = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert record["final_loss"] is None and record["steps"] == 3


def test_two_writers_of_one_checkpoint_never_collide(tmp_path):
    """Each writer has its own temp name (pid + random), so concurrent saves of one path all land."""
    import threading

    import torch

    from explorer.core.lab.persistence import load_checkpoint, save_checkpoint

    path, errors = tmp_path / "same.safetensors", []

    def save(k):
        try:
            for _ in range(20):
                save_checkpoint(path, {"w": torch.full((1000,), float(k))}, {"config": CONFIG.to_dict()})
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    tensors, _ = load_checkpoint(path)
    assert tensors["w"].unique().numel() == 1  # one writer's whole file, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["same.safetensors"]
