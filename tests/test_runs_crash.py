"""kill -9 at random moments, for real: a training process is killed several times and resumed.

After every kill every run is readable, no metric row is duplicated or out of order; each
resume continues the same record with steps increasing, and the finished run has one row per
step, the same numbers as a run that was never killed. The same for ``train --out``.
"""

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.metrics import read_metrics
from explorer.core.lab.persistence import load_checkpoint
from explorer.core.runs import CRASHED, FINISHED, RunStore, train_run

ROOT = Path(__file__).resolve().parents[1]
STEPS = 1000  # long enough that a kill within 0.6 s lands mid-run even on a quiet machine
CONFIG = {"task": {"max_len": 8, "heldout_size": 16},
          "model": {"hidden_size": 8, "backend": "fused"},
          "train": {"steps": STEPS, "batch_size": 4, "report_every": 1, "eval_every": 20, "flow_every": 0,
                    "probe_every": 0}}

# One process imports torch once and forks a fresh training process per job, so each kill -9
# costs milliseconds instead of a torch import. Each job is a real process: killed with SIGKILL,
# it dies mid-write like any other. Lines out: "pid N", "started STEP" (run jobs), "exit CODE".
ZYGOTE = """
import json, os, sys
import torch
torch.set_num_threads(1)
from explorer.app import main
from explorer.core.lab.config import ExperimentConfig
from explorer.core.runs import RunStore
from explorer.core.runs.execute import train_run
import explorer.cli.train, explorer.cli.runs
from explorer.core.lab.training import train
for _ in train(ExperimentConfig.from_dict({"train": {"steps": 2}})):  # warm up: torch's lazy imports (dynamo)
    pass
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if "cli" in job:
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                code = main(job["cli"])
            else:
                workspace, run_id, config = job["run"]
                train_run(ExperimentConfig.from_dict(config), RunStore(workspace), run_id=run_id,
                          checkpoint_every_s=0.1, on_start=lambda trainer, rid: print("started", trainer.step,
                                                                                       flush=True))
                code = 0
        finally:
            sys.stdout.flush()
            os._exit(code)
    print("pid", pid, flush=True)
    print("exit", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


class Zygote:
    def __init__(self, log: Path):
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, env=_env())
        self._buffer = b""
        assert self.line(120) == "ready"

    def line(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            assert left > 0 and select.select([self.proc.stdout], [], [], left)[0], "the zygote went silent"
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            assert chunk, "the zygote died"
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()

    def start(self, job: dict) -> int:
        self.proc.stdin.write((json.dumps(job) + "\n").encode())
        self.proc.stdin.flush()
        self._pending = []
        while True:
            word, value = self.line().split()
            if word == "pid":
                return int(value)
            self._pending.append((word, value))

    def until(self, wanted: str) -> str:
        for word, value in self._pending:
            if word == wanted:
                self._pending.remove((word, value))
                return value
        while True:
            word, value = self.line().split()
            if word == wanted:
                return value

    def log_tail(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-3000:]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self._log.close()


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # it had finished already
        pass


def _assert_readable_and_ordered(store: RunStore):
    for record in store.list():  # every run readable
        steps = store.metrics(record.id)["step"]
        assert np.all(np.diff(steps) > 0), f"run {record.id}: steps out of order or repeated: {steps}"
        assert record.status in (CRASHED, FINISHED)


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    z = Zygote(tmp_path_factory.mktemp("zygote") / "zygote.log")
    yield z
    z.close()


def test_kill_9_at_random_moments_then_resume_continues_the_record(tmp_path, zygote):
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    store = RunStore(tmp_path / "ws")
    run_id = store.new_id()
    job = {"run": [str(store.workspace), run_id, CONFIG]}
    starts, past_checkpoint = [], []
    for _ in range(6):
        pid = zygote.start(job)
        starts.append(int(zygote.until("started")))
        time.sleep(rng.uniform(0.0, 0.6))
        _kill(pid)
        assert zygote.until("exit") in ("-9", "0")
        _assert_readable_and_ordered(store)
        checkpoint = store.checkpoint_path(run_id)
        if checkpoint is not None:  # rows the next start must drop: written after the last checkpoint
            past_checkpoint.append(store.metrics(run_id)["step"][-1] > load_checkpoint(checkpoint)[1]["step"])
    assert any(past_checkpoint), "no kill left rows past a checkpoint: the resume path went untested"
    zygote.start(job)
    assert zygote.until("exit") == "0", zygote.log_tail()
    assert len(store.list()) == 1  # one record, continued each time
    record = store.get(run_id)
    assert record.status == FINISHED and record.steps == STEPS and record.checkpoint_step == STEPS
    steps = store.metrics(run_id)["step"]
    assert steps.tolist() == list(range(1, STEPS + 1)), "a row per step, none lost, none repeated"
    elapsed = store.metrics(run_id)["elapsed_s"]  # a killed process's rows past the checkpoint were dropped:
    assert np.all(np.diff(elapsed) > 0), f"time went backwards: {elapsed}"  # else its clock shows here
    assert starts == sorted(starts) and starts[-1] > 0, f"a resume went back in time: {starts}"
    files = sorted(p.name for p in record.path.iterdir())  # the temp files of killed writers were swept
    assert files == ["checkpoint.safetensors", "lock", "metrics.csv", "run.json"], files

    # the numbers are those of a run that was never killed
    clean = RunStore(tmp_path / "clean")
    theirs = train_run(ExperimentConfig.from_dict(CONFIG), clean, checkpoint_every_s=None)
    ours = store.metrics(run_id)
    np.testing.assert_allclose(ours["loss"], clean.metrics(theirs.id)["loss"], rtol=1e-5)
    np.testing.assert_allclose(ours["heldout_loss"], clean.metrics(theirs.id)["heldout_loss"], rtol=1e-5)
    assert record.best_heldout == theirs.best_heldout


def test_train_out_metrics_never_go_backwards_after_kill_9_and_resume(tmp_path, zygote):
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    out, store = tmp_path / "out", RunStore(tmp_path / "ws")
    base = ["train", "--out", str(out), "--workspace", str(store.workspace), "--checkpoint-every", "0.02"]
    for _ in range(4):
        records = store.list()
        checkpoint = store.checkpoint_path(records[0].id) if records else None
        source = str(checkpoint or config)  # killed before its first checkpoint: start again
        pid = zygote.start({"cli": [*base, source]})
        time.sleep(rng.uniform(0.1, 1.5))
        _kill(pid)
        assert zygote.until("exit") in ("-9", "0")
        steps = read_metrics(out / "metrics.csv")["step"]
        assert np.all(np.diff(steps) > 0), f"--out metrics.csv went backwards: {steps}"
        _assert_readable_and_ordered(store)
    checkpoint = store.checkpoint_path(store.list()[0].id)
    zygote.start({"cli": [*base, str(checkpoint or config)]})
    assert zygote.until("exit") == "0", zygote.log_tail()
    steps = read_metrics(out / "metrics.csv")["step"]
    assert steps[-1] == STEPS and np.all(np.diff(steps) > 0)
