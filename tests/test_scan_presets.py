"""Every scan preset runs and reproduces what its source prints; the random ones keep
their defining property; the CLI prints the same numbers."""

import json
import subprocess
import sys

import pytest
import torch

from explorer.core.presets import list_presets, load_preset
from explorer.core.spec import ScanSpec, check, run_spec, to_jsonable

GALLERY = [
    "cumsum",
    # 001, in its order
    "elementwise_tanh", "reversed_sequence_recurrence", "row_norms", "column_norms", "trace",
    "two_tap_recurrence", "jacobian", "loop_counter", "binomial_mask", "power", "polynomial",
    # 003: examples 1-4, exercises 1-2
    "elementwise_product", "linear_layer", "cumulative_rows", "fibonacci", "polynomial_scan_sum",
    "sampling_without_replacement",
    # 004
    "stop_when",
]
RANDOM = {"binomial_mask", "sampling_without_replacement"}


def spec_of(name):
    return ScanSpec.from_dict(load_preset("scan", name))


def test_gallery_is_complete_and_in_source_order():
    assert list_presets("scan") == GALLERY


@pytest.mark.parametrize("name", GALLERY)
def test_preset_checks_clean_and_round_trips(name):
    spec = spec_of(name)
    assert check(spec) == []
    assert ScanSpec.from_json(spec.to_json()) == spec
    assert spec.title and spec.source and spec.description


@pytest.mark.parametrize("name", sorted(set(GALLERY) - RANDOM))
def test_preset_reproduces_the_source(name):
    spec = spec_of(name)
    assert spec.expected is not None
    result = run_spec(spec).result
    torch.testing.assert_close(result.double(), torch.tensor(spec.expected, dtype=torch.float64),
                               rtol=1e-6, atol=1e-7)


def test_stop_when_keeps_the_step_that_passes_100():
    run = run_spec(spec_of("stop_when"))
    assert run.steps == 7 and run.result.tolist()[-1] == 128


def test_binomial_mask_property_and_seed():
    spec = spec_of("binomial_mask")
    first, again = run_spec(spec), run_spec(spec)
    torch.testing.assert_close(first.result, again.result)  # same seed, same result
    mask = first.outputs["mask"]
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    x, W, b = first.values["v"], first.values["W"], first.values["b"]
    torch.testing.assert_close(first.result, torch.tanh(x @ W + b) * mask)
    assert 0 < mask.sum() < mask.numel()  # a real mask, not all ones or zeros
    other = run_spec(spec.replace(seed=spec.seed + 1)).outputs["mask"]
    assert not torch.equal(mask, other)


def test_sampling_without_replacement_property():
    spec = spec_of("sampling_without_replacement")
    assert torch.equal(run_spec(spec).result, run_spec(spec).result)
    firsts = torch.zeros(3)
    n = 600
    for seed in range(n):
        sample = run_spec(spec.replace(seed=seed)).result.tolist()
        assert len(set(sample)) == len(sample) == 2  # without replacement
        firsts[sample[0]] += 1
    freq = firsts / n
    # binomial standard deviation at n=600 is at most 0.02: allow 4 of them
    torch.testing.assert_close(freq, torch.tensor([0.6, 0.3, 0.1]), atol=0.08, rtol=0)


@pytest.mark.parametrize("name,result", [("trace", 4.0), ("fibonacci", [2, 3, 5, 8, 13, 21, 34, 55, 89, 144])])
def test_cli_json(name, result):
    out = subprocess.run([sys.executable, "main.py", "scan", name, "--json"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["result"] == result
    assert set(data["outputs"]) == {o.name for o in spec_of(name).outputs}


def test_cli_runs_a_spec_file_and_reports_bad_input(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(spec_of("cumsum").to_json())
    out = subprocess.run([sys.executable, "main.py", "scan", str(good), "--json"], capture_output=True, text=True,
                         timeout=120)
    assert json.loads(out.stdout)["result"] == [1, 3, 5, 7]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"outputs": [{"name": "y", "initial": "1.0", "expression": "tanhh(y)"}]}))
    out = subprocess.run([sys.executable, "main.py", "scan", str(bad)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "outputs[0].expression (column 1): unknown function 'tanhh'; did you mean 'tanh'?" in out.stderr
    assert "n_steps: with no sequences" in out.stderr  # every problem at once
    assert "Traceback" not in out.stderr
    for text in ("{not json", "[1, 2]"):
        bad.write_text(text)
        out = subprocess.run([sys.executable, "main.py", "scan", str(bad)], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 2 and "Traceback" not in out.stderr and out.stderr.startswith("error:")


def test_outputs_are_jsonable():
    run = run_spec(spec_of("fibonacci"))
    assert json.loads(json.dumps(to_jsonable(run.outputs)))["f"][:3] == [2, 3, 5]
