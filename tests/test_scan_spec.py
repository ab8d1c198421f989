"""ScanSpec: validation names every problem's field, the signature says what the step
receives, the unrolled view says where each value comes from."""

import pytest
import torch

from explorer.core.errors import ConfigError
from explorer.core.spec import (NonSequenceSpec, OutputSpec, ScanSpec, SequenceSpec, StepVariable, check,
                                run_spec, signature, unroll)


def fields(problems):
    return {p.field: p for p in problems}


def test_signature_matches_theano_order_and_real_indices():
    spec = ScanSpec(
        sequences=(SequenceSpec("y", "ones(5, 2)"), SequenceSpec("p", "ones(5, 2)", reversed=True)),
        outputs=(OutputSpec("x", "tanh(x_tm1 @ W + y + p)", initial="zeros(2)"),),
        non_sequences=(NonSequenceSpec("W", "eye(2)"),),
    )
    assert signature(spec) == "fn(y[t], p[T-1-t], x[t-1], W)"  # PRODUCT.md's example


@pytest.mark.parametrize("taps,backwards,reversed_,want", [
    ((-2, 0), False, False, "fn(x[t], x[t+2])"),
    ((0, -2), False, False, "fn(x[t+2], x[t])"),  # the user's order
    ((-1, 0), True, False, "fn(x[T-2-t], x[T-1-t])"),
    ((0,), True, True, "fn(x[t])"),  # reversed and walked backwards: forward again
    ((1,), False, True, "fn(x[T-2-t])"),  # reads data[::-1][t+1]
])
def test_signature_indices(taps, backwards, reversed_, want):
    spec = ScanSpec(sequences=(SequenceSpec("x", "arange(6.0)", taps=taps, reversed=reversed_),),
                    outputs=(OutputSpec("y", "x"),), go_backwards=backwards)
    assert signature(spec) == want


def test_signature_indices_agree_with_what_runs():
    """The unrolled view names the rows the engine really reads (checked by value)."""
    for taps in [(-2, 0), (0, 1), (-1,)]:
        for backwards in (False, True):
            for rev in (False, True):
                spec = ScanSpec(
                    sequences=(SequenceSpec("x", "arange(10.0) * 10", taps=taps, reversed=rev),),
                    outputs=tuple(OutputSpec(f"o{i}", a) for i, a in
                                  enumerate(["x" if k == 0 else f"x_t{'m' if k < 0 else 'p'}{abs(k)}" for k in taps])),
                    go_backwards=backwards)
                run = run_spec(spec)
                for step in unroll(spec, {"x": 10}, n_show=3):
                    for i, (_, source) in enumerate(step.reads):
                        row = int(source[2:-1])
                        assert run.outputs[f"o{i}"][step.step].item() == row * 10, (taps, backwards, rev, step)


def test_unroll_shows_initial_rows_then_outputs():
    spec = ScanSpec(outputs=(OutputSpec("f", "f_tm2 + f_tm1", initial="[1.0, 1.0]", taps=(-2, -1)),), n_steps=5)
    reads = [r.reads for r in unroll(spec, {}, 3)]
    assert reads[0] == [("f_tm2", "f's initial row 0"), ("f_tm1", "f's initial row 1")]
    assert reads[2] == [("f_tm2", "f[0] (from step 0)"), ("f_tm1", "f[1] (from step 1)")]


def test_every_problem_is_reported_on_its_field():
    spec = ScanSpec(
        sequences=(SequenceSpec("x", "arange(5.0)", taps=(0, 0)), SequenceSpec("2bad", "[1.0]")),
        outputs=(OutputSpec("y", "y + x_tm1", initial="0.0"), OutputSpec("x", "1.0"),
                 OutputSpec("z", "1", taps=(1,), initial="0.0"), OutputSpec("tanh", "1")),
        n_steps=-1, until="y >",
    )
    problems = fields(check(spec))
    assert "repeats a tap" in problems["sequences[0].taps"].message
    assert "is not a name" in problems["sequences[1].name"].message
    assert "already the name of sequences[0]" in problems["outputs[1].name"].message
    assert "must be negative" in problems["outputs[2].taps"].message
    assert "function of the expression language" in problems["outputs[3].name"].message
    assert "add -1 to its taps" in problems["outputs[0].expression"].message
    assert problems["outputs[0].expression"].column == 5
    assert "n_steps" in problems and "until" in problems


def test_value_problems_come_after_static_ones():
    spec = ScanSpec(outputs=(OutputSpec("f", "f_tm2 + f_tm1", initial="[1.0, 1.0, 1.0]", taps=(-2, -1)),), n_steps=3)
    (problem,) = check(spec)
    assert problem.field == "outputs[0].initial"
    assert "has 3 rows but the oldest tap is -2: give exactly 2 rows" in problem.message
    spec = ScanSpec(sequences=(SequenceSpec("x", "[1.0, 2.0]", taps=(-2, 1)),), outputs=(OutputSpec("y", "x_tp1"),))
    (problem,) = check(spec)
    assert problem.field == "sequences[0].taps" and "at least 4 rows" in problem.message


def test_dry_run_names_the_shape_mismatch():
    spec = ScanSpec(
        non_sequences=(NonSequenceSpec("W", "ones(2, 3)"),),
        outputs=(OutputSpec("h", "tanh(h @ W)", initial="zeros(2)"),), n_steps=100,
    )
    (problem,) = check(spec)
    assert problem.field == "outputs[0].expression"
    assert "'h' is (3,) at step 0 but its initial value is (2,)" in problem.message
    spec = spec.replace(outputs=(OutputSpec("h", "tanh(W @ h)", initial="zeros(2)"),))
    (problem,) = check(spec)
    assert problem.field == "outputs[0].expression" and "(2, 3) and (2,)" in problem.message


def test_not_fed_back_output_cannot_be_read():
    spec = ScanSpec(outputs=(OutputSpec("a", "1.0"), OutputSpec("b", "a * 2")), n_steps=2)
    (problem,) = check(spec)
    assert problem.field == "outputs[1].expression" and "not fed back" in problem.message


def test_until_sees_new_values_and_must_be_one_value():
    spec = ScanSpec(outputs=(OutputSpec("v", "v * 2", initial="1.0"),), n_steps=100, until="v > 100")
    assert run_spec(spec).result.tolist() == [2, 4, 8, 16, 32, 64, 128]
    spec = ScanSpec(outputs=(OutputSpec("v", "v * 2", initial="ones(2)"),), n_steps=5, until="v > 3")
    (problem,) = check(spec)
    assert problem.field == "until" and "one true/false value" in problem.message


def test_step_variables_are_ordered():
    spec = ScanSpec(step_variables=(StepVariable("a", "b + 1"), StepVariable("b", "2.0")),
                    outputs=(OutputSpec("y", "a"),), n_steps=1)
    (problem,) = check(spec)
    assert problem.field == "step_variables[0].expression" and "'b'" in problem.message


def test_run_raises_config_error_with_all_problems():
    with pytest.raises(ConfigError) as info:
        run_spec(ScanSpec(outputs=(OutputSpec("y", "nope(1)"),)))
    assert set(info.value.fields) == {"outputs[0].expression", "n_steps"}


def test_from_dict_reports_structure_problems():
    with pytest.raises(ConfigError) as info:
        ScanSpec.from_dict({"sequences": [{"name": "x"}], "outputs": "y", "n_step": 3, "go_backwards": "yes"})
    assert set(info.value.fields) == {"sequences[0].data", "outputs", "n_step", "go_backwards"}


def test_json_accepts_numbers_and_arrays_as_text():
    spec = ScanSpec.from_dict({"sequences": [{"name": "x", "data": [1.0, 2.0]}],
                               "outputs": [{"name": "s", "initial": 0, "expression": "s + x"}]})
    assert spec.sequences[0].data == "[1.0, 2.0]" and spec.outputs[0].initial == "0"
    assert run_spec(spec).result.tolist() == [1.0, 3.0]


def test_float32_specs_and_gradients_flow():
    spec = ScanSpec(sequences=(SequenceSpec("x", "[1, 2, 3]"),), outputs=(OutputSpec("s", "s + x", initial="0"),),
                    dtype="float32")
    run = run_spec(spec)
    assert run.result.dtype == torch.float32 and run.result.tolist() == [1, 3, 6]


def test_progress_reports_each_step_and_can_cancel():
    from explorer.core.spec import Cancelled

    spec = ScanSpec(outputs=(OutputSpec("v", "v + 1", initial="0.0"),), n_steps=50)
    seen = []
    run_spec(spec, progress=seen.append)
    assert seen == list(range(1, 51))
    with pytest.raises(Cancelled, match="after 10 steps"):
        run_spec(spec, progress=lambda step: step >= 10)
