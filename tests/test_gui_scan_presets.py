"""Every scan preset through the workbench: the form round-trips the spec, and a run from
the form gives exactly what ``python main.py scan NAME --json`` prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.core.presets import list_presets, load_preset
from explorer.core.spec import ScanSpec, to_jsonable

pytest.importorskip("pytestqt")

from gui_helpers import bench  # noqa: E402,F401 - fixture

ROOT = Path(__file__).resolve().parents[1]
PRESETS = list_presets("scan")

# The CLI once for every preset, in one process (the same `main()` as `python main.py`).
_CLI_LOOP = """
import contextlib, io, json, sys
from explorer.app import main
out = {}
for name in sys.argv[1:]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["scan", name, "--json"])
    out[name] = {"rc": rc, "json": json.loads(buf.getvalue())}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def cli_outputs() -> dict:
    done = subprocess.run([sys.executable, "-c", _CLI_LOOP, *PRESETS], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_gallery_lists_every_preset_in_order(bench):
    assert bench.gallery.names() == PRESETS
    assert len(PRESETS) == 19


def test_main_py_prints_what_the_loop_saw(cli_outputs):
    """The in-process loop above is the real entry point: check one preset end to end."""
    done = subprocess.run([sys.executable, "main.py", "scan", "trace", "--json"], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == cli_outputs["trace"]["json"]


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_round_trips_and_runs_like_the_cli(bench, qtbot, cli_outputs, name):
    preset = ScanSpec.from_dict(load_preset("scan", name))
    bench.load_preset(name)
    assert bench.spec() == preset  # every field survives the form
    assert bench.checker.last.problems == []
    assert bench.signature_text() == cli_outputs[name]["json"]["signature"]

    with qtbot.waitSignal(bench.run_finished, timeout=20_000) as done:
        assert bench.run()
    run = done.args[0]

    cli = cli_outputs[name]["json"]
    assert cli_outputs[name]["rc"] == 0
    assert run.steps == cli["steps"]
    got = to_jsonable(run.outputs)
    assert list(got) == list(cli["outputs"])
    for out, values in cli["outputs"].items():
        np.testing.assert_allclose(np.asarray(got[out], dtype=float), np.asarray(values, dtype=float),
                                   rtol=1e-12, atol=0, err_msg=f"{name}: output {out}")
    np.testing.assert_allclose(np.asarray(to_jsonable(run.result), dtype=float),
                               np.asarray(cli["result"], dtype=float), rtol=1e-12, atol=0)
    # what the user sees: one tab per output, and the verdict against the source
    assert bench.results.tabs.count() == len(cli["outputs"])
    summary = bench.results.summary.text()
    if preset.expected is not None:
        assert "✓ agrees with the source" in summary
    else:
        assert "the source prints" not in summary
