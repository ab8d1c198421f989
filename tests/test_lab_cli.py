"""``python main.py train``: JSON on stdout, files in --out, resuming, exit code 2 for bad configs."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"steps", "loss", "loss_ema", "heldout_loss", "seconds", "steps_per_s"}


def main_py(*args):
    return subprocess.run([sys.executable, "main.py", "train", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    """Every run these tests record goes to a temp workspace, never the user's."""
    monkeypatch.setenv("SCAN_EXPLORER_WORKSPACE", str(tmp_path / "workspace"))


def test_json_summary_alone_on_stdout_and_files_in_out_then_resume(tmp_path):
    out = main_py("default", "--steps", "30", "--json", "--out", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert REQUIRED <= set(summary) and summary["steps"] == 30 and summary["status"] == "finished"
    assert all(isinstance(summary[k], (int, float)) for k in REQUIRED)
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 30
    assert (run / "checkpoint.safetensors").stat().st_size > 0
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert rows[-1]["step"] == "30" and float(rows[-1]["loss"]) > 0

    assert (Path(summary["workspace"]) / "runs" / summary["run_id"] / "run.json").is_file()  # recorded too

    again = main_py(str(run / "checkpoint.safetensors"), "--steps", "40", "--json", "--no-record")
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["steps"] == 40 and resumed["run_id"] is None and resumed["status"] == "finished"


def test_a_bad_config_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": {"cell": "gru"}, "train": {"lr": -1, "steps": 5}}))
    out = main_py(str(bad), "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert "train.lr" in out.stderr
    out = main_py("default", "--steps", "-3")
    assert out.returncode == 2 and "train.steps" in out.stderr
    out = main_py("no_such_preset")
    assert out.returncode == 2 and "seed000_cumsum" in out.stderr
