"""The workbench's plain-data helpers (no window): what step t read, tables, agreement."""

from __future__ import annotations

import numpy as np
import torch

from explorer.core.presets import load_preset
from explorer.core.spec import OutputSpec, ScanSpec, SequenceSpec, run_spec, unroll
from explorer.gui.scan.stepdata import agreement, as_table, sequence_lengths, step_count, step_reads


def preset(name: str) -> ScanSpec:
    return ScanSpec.from_dict(load_preset("scan", name))


def test_step_reads_follow_the_reversed_sequence_and_the_state():
    run = run_spec(preset("reversed_sequence_recurrence"))
    reads = {r.name: r for r in step_reads(run, 0)}
    assert reads["p"].source == "p[4]" and reads["p"].value.tolist() == [1.0, 1.0]
    assert reads["y"].source == "y[0]" and reads["y"].value.tolist() == [-3.0, -3.0]
    assert reads["x_tm1"].source == "x's initial value" and reads["x_tm1"].value.tolist() == [0.0, 1.0]
    later = {r.name: r for r in step_reads(run, 4)}
    assert later["p"].source == "p[0]" and later["p"].value.tolist() == [3.0, 3.0]
    assert later["x_tm1"].source == "x[3] (from step 3)"
    np.testing.assert_array_equal(later["x_tm1"].value, run.outputs["x"][3].numpy())


def test_step_reads_agree_with_unroll_for_every_preset():
    for name in ("fibonacci", "two_tap_recurrence", "trace", "cumulative_rows", "stop_when"):
        spec = preset(name)
        run = run_spec(spec)
        expected = unroll(spec, sequence_lengths(spec), 4)
        for row in expected:
            assert [(r.name, r.source) for r in step_reads(run, row.step)] == row.reads, name


def test_two_tap_initial_rows_feed_the_first_steps():
    run = run_spec(preset("two_tap_recurrence"))
    first = step_reads(run, 0)
    assert [(r.name, r.source, r.value.tolist()) for r in first[:2]] == [
        ("x_tm2", "x's initial row 0", [0.0, 0.0]), ("x_tm1", "x's initial row 1", [0.0, 1.0])]


def test_lengths_and_step_counts():
    spec = preset("polynomial")
    lengths = sequence_lengths(spec)
    assert lengths == {"coeff": 3, "power": 10_000}
    assert step_count(spec, lengths) == 3
    assert step_count(preset("fibonacci"), {}) == 10
    taps = ScanSpec(sequences=(SequenceSpec("x", "arange(6)", (-2, 0)),), outputs=(OutputSpec("y", "x"),))
    assert step_count(taps, sequence_lengths(taps)) == 4


def test_tables_flatten_beyond_one_dimension():
    scalar = as_table(torch.tensor([1.0, 2.0]))
    assert scalar.columns == ["value"] and scalar.values.shape == (2, 1) and scalar.note == ""
    cube = as_table(torch.zeros(5, 2, 3))
    assert cube.values.shape == (5, 6)
    assert cube.columns[:2] == ["[0, 0]", "[0, 1]"] and "2 x 3" in cube.note
    assert as_table(torch.tensor([1, 2])).integral


def test_agreement_uses_the_presets_tolerance():
    assert agreement(torch.tensor([1.0, 3.0]), [1.0, 3.0]) is True
    assert agreement(torch.tensor([0.964027580075817]), [0.96402758]) is True
    assert agreement(torch.tensor([1.0, 3.1]), [1.0, 3.0]) is False
    assert agreement(torch.tensor([1.0, 3.0]), [1.0, 3.0, 5.0]) is False  # shape counts
    assert agreement(torch.tensor(5.0), None) is None
