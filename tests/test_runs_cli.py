"""``python main.py runs``: the table, --compare, --tensorboard, --rename, --delete; and what
``train`` promises about the workspace and ``--out`` (locked, refused when impossible, strict JSON)."""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.runs import RunStore, train_run

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ExperimentConfig(task=TaskConfig(max_len=8, heldout_size=16), model=ModelConfig(hidden_size=8),
                          train=TrainConfig(steps=20, batch_size=4, report_every=5, eval_every=10, flow_every=0,
                                            probe_every=0))


def main_py(*args, timeout=120, **kwargs):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def cli(capsys, *args) -> Result:
    """The same command in this process (torch is loaded already): explorer.app.main, as main.py runs it."""
    from explorer.app import main

    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return Result(code, out.out, out.err)


def _no_traceback(out):
    assert "Traceback" not in out.stderr, out.stderr


@pytest.fixture
def two_runs(tmp_path):
    store = RunStore(tmp_path / "ws")
    small = train_run(CONFIG, store, name="small")
    time.sleep(0.01)  # distinct creation times: the order is testable
    wide = dataclasses.replace(CONFIG, model=dataclasses.replace(CONFIG.model, hidden_size=16),
                               train=dataclasses.replace(CONFIG.train, clip_norm=0.0))
    big = train_run(wide, store, name="wide")
    return store, small, big


def test_the_table_lists_runs_newest_first(two_runs):
    store, small, big = two_runs
    out = main_py("runs", "--workspace", str(store.workspace))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "name", "status"]
    assert lines[1].startswith(big.id) and "wide" in lines[1] and "finished" in lines[1] and "20/20" in lines[1]
    assert lines[2].startswith(small.id) and "small" in lines[2]
    listed = json.loads(main_py("runs", "--workspace", str(store.workspace), "--json").stdout,
                        parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert [r["id"] for r in listed] == [big.id, small.id] and listed[0]["final_heldout"] == big.final_heldout


def test_compare_shows_what_differs_and_the_final_metrics(two_runs):
    store, small, big = two_runs
    out = main_py("--workspace", str(store.workspace), "runs", "--compare", small.id, "wide")  # an id or a name
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()[1:] if line.strip()}
    assert rows["model.hidden_size"] == ["8", "16"] and rows["train.clip_norm"] == ["1", "0"]
    assert "train.steps" not in rows and rows["status"] == ["finished", "finished"]
    assert rows["final_heldout"] == [f"{small.final_heldout:.4g}", f"{big.final_heldout:.4g}"]
    data = json.loads(main_py("runs", "--workspace", str(store.workspace), "--compare", small.id, big.id,
                              "--json").stdout)
    assert data["fields"] == {"model.hidden_size": [8, 16], "train.clip_norm": [1.0, 0.0]}


def test_rename_delete_and_bad_ids(two_runs):
    store, small, big = two_runs
    ws = ["--workspace", str(store.workspace)]
    assert main_py("runs", *ws, "--rename", small.id[:-1], "hidden 8").returncode == 0  # a unique start of the id
    assert store.get(small.id).name == "hidden 8"
    for args in (["--compare", small.id, "20990101-000000-beef"], ["--rename", "nope", "x"], ["--delete", "nope"],
                 ["--tensorboard", "tb", "nope"], ["nope"]):
        out = main_py("runs", *ws, *args)
        assert out.returncode == 2 and ("'nope'" in out.stderr or "20990101-000000-beef" in out.stderr), out.stderr
        _no_traceback(out)
    out = main_py("runs", *ws, "--delete", "2026")  # ambiguous: both runs start so
    assert out.returncode == 2 and "2 runs match" in out.stderr
    assert main_py("runs", *ws, "--delete", big.id).returncode == 0
    assert [r.id for r in store.list()] == [small.id]


def test_tensorboard_event_files_hold_the_scalars(two_runs, tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    store, small, big = two_runs
    out = main_py("runs", "--workspace", str(store.workspace), "--tensorboard", str(tmp_path / "tb"))
    assert out.returncode == 0, out.stderr
    folders = sorted(p.name for p in (tmp_path / "tb").iterdir())
    assert folders == sorted([f"{small.id}-small", f"{big.id}-wide"])
    events = EventAccumulator(str(tmp_path / "tb" / f"{small.id}-small"))
    events.Reload()
    assert {"loss", "heldout_loss", "lr", "grad_norm"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("loss")] == [5, 10, 15, 20]
    assert [e.step for e in events.Scalars("heldout_loss")] == [10, 20]
    out = cli(capsys, "runs", "--workspace", str(store.workspace), "--tensorboard", str(tmp_path / "one"), big.id)
    assert out.returncode == 0 and [p.name for p in (tmp_path / "one").iterdir()] == [f"{big.id}-wide"]


BLOCK_TENSORBOARD = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorboard" or name.startswith("tensorboard."):
            raise ImportError("No module named 'tensorboard'")
sys.meta_path.insert(0, Block())
from explorer.app import main
sys.exit(main(sys.argv[1:]))
"""


def test_tensorboard_missing_is_a_clear_exit_2(two_runs, tmp_path):
    store = two_runs[0]
    out = subprocess.run([sys.executable, "-c", BLOCK_TENSORBOARD, "runs", "--workspace", str(store.workspace),
                          "--tensorboard", str(tmp_path / "tb")], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 2 and "scan-explorer[tensorboard]" in out.stderr, out.stderr
    _no_traceback(out)


def test_out_is_locked_for_its_run(tmp_path, capsys):
    out_dir, ws = tmp_path / "out", ["--workspace", str(tmp_path / "ws")]
    first = subprocess.Popen([sys.executable, "main.py", "train", "default", "--steps", "1000000", "--out",
                              str(out_dir), *ws], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not ((out_dir / "lock").is_file() and (out_dir / "lock").read_text().strip()):
            assert first.poll() is None and time.monotonic() < deadline, "the first training never took --out"
            time.sleep(0.05)  # a file, not a signal: poll it
        second = cli(capsys, "train", "default", "--steps", "5", "--out", str(out_dir), *ws)
        assert second.returncode == 2, second.stderr
        assert str(out_dir) in second.stderr and f"process {first.pid}" in second.stderr
        _no_traceback(second)
    finally:
        first.kill()
        first.wait()


def test_out_that_cannot_be_a_folder_exits_2(tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    for out_dir, words in ((tmp_path / "file", "is a file"), ("/dev/null/x", "cannot make this folder")):
        out = cli(capsys, "train", "default", "--steps", "5", "--out", str(out_dir), "--workspace", str(tmp_path / "ws"))
        assert out.returncode == 2 and str(out_dir) in out.stderr and words in out.stderr, out.stderr
        _no_traceback(out)
    assert (tmp_path / "file").read_text() == "mine"
    assert RunStore(tmp_path / "ws").list() == []  # refused before a run was recorded


def test_json_is_strict_and_names_the_run(tmp_path, capsys):
    config = tmp_path / "explodes.json"
    config.write_text(json.dumps({"model": {"hidden_size": 8}, "train": {
        "optimizer": "sgd", "lr": 1e6, "clip_norm": 0, "steps": 50, "report_every": 5}}))
    out = cli(capsys, "--workspace", str(tmp_path / "ws"), "train", str(config), "--json", "--name", "boom")
    assert out.returncode == 1, out.stderr  # a non-finite run is an error, but its summary still comes
    summary = json.loads(out.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    record = RunStore(tmp_path / "ws").get(summary["run_id"])
    assert summary["status"] == record.status == "nonfinite" and record.name == "boom"
    assert summary["loss"] is None and record.final_loss is None


def test_a_workspace_that_cannot_be_exits_2(tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    for workspace in (tmp_path / "file", "/dev/null/x"):
        for args in (["runs"], ["train", "default", "--steps", "5"]):
            out = cli(capsys, "--workspace", str(workspace), *args)
            assert out.returncode == 2 and str(workspace) in out.stderr, (args, out.stderr)
    assert (tmp_path / "file").read_text() == "mine"
    empty = cli(capsys, "runs", "--workspace", str(tmp_path / "new"))
    assert empty.returncode == 0 and "no runs" in empty.stdout
