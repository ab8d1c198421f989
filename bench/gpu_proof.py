"""The GPU path, proven in one run of a few minutes (issue 11, deliverable 4). Each part prints
PASS or FAIL with its numbers; the exit code is the number of failed parts.

1. ``cells``: every cell trains on the device through ``auto`` (built-in cells on cuDNN,
   ``fused``; a custom cell, the ``minimal_gated_unit`` preset, on the scan path): the backend,
   the device, a finite loss that went down, and the held-out loss;
2. ``tests``: the suite's CUDA tests (the CUDA scan test, numba never on CUDA) in a subprocess;
3. ``speed``: steps/s on the device against the CPU (one thread) for the presets ``default`` and
   ``seed000_cumsum`` as shipped and for single layers at batch 64 / hidden 1024 (vanilla, GRU,
   LSTM; diagnostics off), each over ``--seconds``;
4. ``window``: the window's training runner (offscreen) trains the default preset on the
   device: the run's own "training on ..." facts, its steps and steps/s.

    python bench/gpu_proof.py [--seconds 3] [--parts cells,tests,speed,window]
    python bench/gpu_proof.py --device cpu     (every part on the CPU: checks the script itself)

Without CUDA (and no ``--device``) it says so and exits 2 before anything runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
CELLS = ("vanilla", "relu", "gru", "lstm")


def config_for(preset: str | None = None, **changes):
    """A preset (or the default config) with ``changes`` = {section: {field: value}}."""
    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.presets import resolve

    data = resolve("train", preset) if preset else ExperimentConfig().to_dict()
    for section, values in changes.items():
        data.setdefault(section, {}).update(values)
    return ExperimentConfig.from_dict(data)


def run_to_end(config):
    """Train ``config`` to its end -> (trainer, the last full report, seconds)."""
    from explorer.core.lab.training import Trainer

    trainer = Trainer(config)
    last, start = None, time.perf_counter()
    for report in trainer.reports():
        if report.full:
            last = report
    return trainer, last, time.perf_counter() - start


def part_cells(device: str, seconds: float) -> tuple[bool, list[str]]:
    lines, ok = [], True
    cases = [(cell, config_for(task={"name": "cumsum", "min_len": 5, "max_len": 30},
                               model={"cell": cell, "hidden_size": 64, "backend": "auto"},
                               train={"device": device, "steps": 300, "batch_size": 32, "lr": 0.003,
                                      "optimizer": "adam", "eval_every": 100, "probe_every": 100,
                                      "flow_every": 100, "report_every": 20}))
             for cell in CELLS]
    cases.append(("custom (minimal_gated_unit)",
                  config_for("minimal_gated_unit", train={"device": device, "steps": 300})))
    for name, config in cases:
        try:
            trainer, last, took = run_to_end(config)
        except Exception as exc:  # a failure is this part's result, not the script's end
            ok = False
            lines.append(f"  {name}: FAIL {type(exc).__name__}: {exc}")
            continue
        first = float(trainer._first_loss)
        want = "scan" if trainer.model.custom else ("fused" if trainer.device.type == "cuda" else trainer.backend)
        good = (trainer.device.type == torch.device(device).type and trainer.backend == want
                and math.isfinite(last.loss_ema) and last.loss_ema < first and last.heldout_loss is not None
                and math.isfinite(last.heldout_loss))
        ok &= good
        lines.append(f"  {name}: {'PASS' if good else 'FAIL'} on {trainer.device} ({trainer.backend}), "
                     f"{trainer.step} steps in {took:.1f} s, loss {first:.4g} -> EMA {last.loss_ema:.4g}, "
                     f"held-out {last.heldout_loss:.4g}, status {last.status}")
    return ok, lines


def part_tests(device: str, seconds: float) -> tuple[bool, list[str]]:
    tests = ["tests/test_theano_scan.py::test_cuda",
             "tests/test_lab_fast_paths.py::test_numba_is_never_chosen_or_allowed_on_cuda",
             "tests/test_lab_models.py::test_auto_backend_choice"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", *tests], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    tail = done.stdout.strip().splitlines()[-4:]
    skipped = "skipped" in (tail[-1] if tail else "")
    ok = done.returncode == 0 and not (skipped and device == "cuda")
    return ok, [f"  pytest exit {done.returncode}{' (a CUDA test was skipped)' if skipped else ''}:",
                *(f"    {line}" for line in tail)]


def steps_per_s(config, seconds: float, warm: int = 20) -> float:
    """Steps/s of ``config``'s Trainer after ``warm`` steps, over about ``seconds`` (at least 3 steps)."""
    from explorer.core.lab.training import Trainer

    trainer = Trainer(config)
    reports = trainer.reports()
    for _ in range(warm):
        next(reports)
    sync = torch.cuda.synchronize if trainer.device.type == "cuda" else (lambda: None)
    sync()
    n, start = 0, time.perf_counter()
    while n < 3 or time.perf_counter() - start < seconds:
        next(reports)
        n += 1
    sync()
    return n / (time.perf_counter() - start)


def part_speed(device: str, seconds: float) -> tuple[bool, list[str]]:
    never = 10**8  # steps: the runs are cut by time
    rows = [(preset, lambda dev, p=preset: config_for(p, train={"device": dev, "steps": never}))
            for preset in ("default", "seed000_cumsum")]
    for cell in ("vanilla", "gru", "lstm"):
        rows.append((f"{cell} b64 h1024", lambda dev, c=cell: config_for(
            task={"name": "cumsum", "min_len": 50, "max_len": 50},
            model={"cell": c, "hidden_size": 1024, "backend": "auto"},
            train={"device": dev, "steps": never, "batch_size": 64, "optimizer": "sgd", "lr": 1e-4,
                   "flow_every": 0, "probe_every": 0, "eval_every": 0, "report_every": 100})))
    lines, ok = [f"  {'row':18s} {'device':>10s} {'CPU':>10s}  device / CPU   (steps/s)"], True
    for name, make in rows:
        try:
            fast, cpu = steps_per_s(make(device), seconds), steps_per_s(make("cpu"), seconds, warm=3)
        except Exception as exc:
            ok = False
            lines.append(f"  {name:18s} FAIL {type(exc).__name__}: {exc}")
            continue
        lines.append(f"  {name:18s} {fast:10.1f} {cpu:10.1f}  {fast / cpu:8.2f}x")
    return ok, lines


WINDOW = """
import json, sys, time
from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from explorer.gui.main_window import MainWindow
settings = QSettings(sys.argv[2], QSettings.Format.IniFormat)
w = MainWindow(preset="default", settings=settings)
w.show()
editor = w.forms.forms["train"].editors["device"]
editor.setCurrentText(sys.argv[1]) if hasattr(editor, "setCurrentText") else editor.setText(sys.argv[1])
facts = {}
w.session.ready.connect(lambda f: facts.update(device=f["device"], backend=f["backend"]))
messages = []
w.session.message.connect(messages.append)
def settle(ms):
    loop = QEventLoop(); QTimer.singleShot(ms, loop.quit); loop.exec()
w.play()
start = time.time()
while time.time() - start < 60 and (w.session.data.last is None or w.session.data.last.step < 1000):
    settle(100)
last = w.session.data.last
w.act_stop.trigger()
while time.time() - start < 90 and w.session.state != "done":
    settle(100)
rate = [float(r) for r in w.session.data.scalars["steps_per_s"] if r == r]  # NaN where a report had none
print(json.dumps({**facts, "steps": last.step if last else 0, "state": w.session.state,
                  "steps_per_s": float(rate[-1]) if rate else None, "messages": messages[-3:]}))
w.close()
"""


def part_window(device: str, seconds: float) -> tuple[bool, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
                   SCAN_EXPLORER_WORKSPACE=str(Path(tmp) / "workspace"))
        done = subprocess.run([sys.executable, "-c", WINDOW, device, str(Path(tmp) / "settings.ini")], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        return False, [f"  FAIL exit {done.returncode}:", *(f"    {line}" for line in done.stderr.splitlines()[-8:])]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    on_device = ("GPU" in out.get("device", "")) if device.startswith("cuda") else out.get("device") == "CPU"
    ok = on_device and out["steps"] >= 1000 and out["state"] == "done"
    rate = f"{out['steps_per_s']:.0f} steps/s" if out.get("steps_per_s") else "steps/s not reported"
    return ok, [f"  {'PASS' if ok else 'FAIL'}: the window trained on {out.get('device')} ({out.get('backend')} "
                f"backend), {out['steps']} steps, {rate}, then {out['state']}",
                *(f"    log: {m}" for m in out["messages"])]


PARTS = {"cells": part_cells, "tests": part_tests, "speed": part_speed, "window": part_window}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda (the default where there is one) or cpu")
    parser.add_argument("--seconds", type=float, default=3.0, help="per speed measurement")
    parser.add_argument("--parts", default=",".join(PARTS))
    args = parser.parse_args()
    device = args.device or ("cuda" if torch.cuda.is_available() else None)
    if device is None:
        print("no CUDA device here (torch.cuda.is_available() is False); --device cpu checks the script itself")
        return 2
    torch.set_num_threads(1)
    where = torch.cuda.get_device_name(0) if device.startswith("cuda") else "CPU"
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device {device}: {where}", flush=True)
    failed = 0
    for name in args.parts.split(","):
        start = time.perf_counter()
        ok, lines = PARTS[name](device, args.seconds)
        failed += not ok
        print(f"{name}: {'PASS' if ok else 'FAIL'} ({time.perf_counter() - start:.0f} s)", *lines, sep="\n", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
