"""The cost budget (issue 9, item 3): expressions and scan specs are refused before they
create more than the budget, summed over every operation, with a message naming the
sub-expression (and its column) or the field, and the estimate in bytes."""

import time

import pytest

from explorer.core import budget
from explorer.core.errors import ConfigError
from explorer.core.expr import ExpressionError, compile_expression, evaluate
from explorer.core.spec import ScanSpec, check, run_spec

QUICK = 2.0  # seconds: a refusal is made from sizes, never by computing


def refused(text, **values) -> ExpressionError:
    start = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)(values)
    assert time.perf_counter() - start < QUICK, f"refusing {text!r} took too long"
    return info.value


@pytest.fixture
def small_budget(monkeypatch):
    """A 10 MB budget, so each case is cheap to run."""
    monkeypatch.setenv(budget.ENV, str(10**7))
    budget.refresh()
    yield 10**7
    monkeypatch.undo()
    budget.refresh()


# -- the setting ------------------------------------------------------------------------------


def test_the_budget_is_one_setting(monkeypatch):
    monkeypatch.delenv(budget.ENV, raising=False)
    assert budget.budget_bytes() == 2 * 2**30 == budget.DEFAULT_BYTES
    monkeypatch.setenv(budget.ENV, "5e8")
    assert budget.budget_bytes() == 500_000_000
    for bad in ("lots", "-1", "0", "1.5", "inf", "nan"):
        monkeypatch.setenv(budget.ENV, bad)
        with pytest.raises(ConfigError, match=budget.ENV):
            budget.budget_bytes()


def test_meters_are_per_thread_and_nest():
    assert budget.active() is None
    with budget.metering(1000) as outer:
        budget.charge(600)
        with budget.metering(1000) as inner:
            budget.charge(600)  # its own total
        assert budget.active() is outer and inner.used == 600
        with pytest.raises(budget.OverBudget, match="bringing the total to 1.2 KB"):
            budget.charge(600)
    assert budget.active() is None


# -- expressions ------------------------------------------------------------------------------


def test_integer_tensor_indexing_is_sized_before_it_gathers():
    # 10 x 1000 indexed by 10**6 row numbers: 10**9 elements (the case).
    err = refused("ones(10, 1000)[int(zeros(10**6))]")
    assert err.column == 1 and "1,000,000,000 elements" in err.message


def test_a_gather_within_the_tensor_limit_is_charged_to_the_budget(small_budget):
    err = refused("ones(10, 100)[int(zeros(3 * 10**4))]")  # 3 * 10**6 float32: 12 MB, under 10**8 elements
    assert err.column == 1 and "the indexed result would create 12.0 MB" in err.message
    assert "(12,000,000 bytes)" in err.message and budget.ENV in err.message


def test_the_limit_is_per_expression_not_per_tensor(small_budget):
    # Each ones(10**6) (4 MB) is allowed alone; nested, the third goes over 10 MB.
    text = "ones(10**6) + (" * 18 + "ones(10**6)" + ")" * 18
    evaluate("ones(10**6) + 1")
    err = refused(text)
    assert err.column is not None and err.column > 1
    assert "`ones(10**6)`" in str(err) and "bringing the total to" in err.message
    assert "(4,000,000 bytes)" in err.message


def test_broadcasting_is_charged_at_its_result_size(small_budget):
    err = refused("ones(2000, 1) + ones(1, 2000)")  # 4 * 10**6 float32: 16 MB
    assert err.column == 1 and "would create 16.0 MB" in err.message


def test_nineteen_nested_sums_are_refused_from_their_shapes_before_any_is_made():
    # The case: each ones(10**8) is allowed alone; 19 of them are 7.6 GB of float32.
    text = "ones(10**8) + (" * 18 + "ones(10**8)" + ")" * 18
    expr = compile_expression(text)
    assert expr.shape == (10**8,) and len(expr.costs) == 37
    err = refused(text)  # quick: nothing was allocated
    assert err.column == 76 and "`ones(10**8)`" in str(err) and "(400,000,000 bytes)" in err.message


def test_sizes_known_only_from_values_are_charged_as_they_are_made(small_budget):
    err = refused("zeros(sum(ones(3)) * 10**6)")  # 3 * 10**6 float32: 12 MB
    assert "zeros would create 12.0 MB" in err.message


def test_matrix_products_are_charged_their_work(small_budget):
    # 1 MB each and 1 MB out, but 500**3 = 1.25e8 multiply-adds, over 10 per budget byte.
    err = refused("ones(500, 500) @ ones(500, 500)")
    assert "operations" in err.message and err.column == 1


def test_a_normal_expression_still_runs():
    assert float(evaluate("sum(tanh(ones(3, 4) @ ones(4) + 1))")) == pytest.approx(3 * 0.99990920)


# -- scan specs: refused from shapes, before computing ------------------------------------------


def _problems(**data):
    start = time.perf_counter()
    problems = check(ScanSpec.from_dict(data))
    assert time.perf_counter() - start < QUICK * 2
    assert problems, "expected a refusal"
    return problems


def test_steps_times_output_size():
    # zeros(10000) for 100,000 steps: 8 GB of float64 kept as the output (the case).
    (p,) = _problems(outputs=[dict(name="y", expression="zeros(10000)")], n_steps=100_000)
    assert p.field == "outputs[0].expression"
    assert "100,000 steps" in p.message and "GB" in p.message and "bytes" in p.message


def test_a_huge_sequence_without_n_steps():
    (p,) = _problems(sequences=[dict(name="x", data="zeros(10**8)")], outputs=[dict(name="y", expression="x")])
    assert p.field == "sequences[0].data" and "100,000,000 steps" in p.message


def test_taps_times_rows():
    (p,) = _problems(sequences=[dict(name="x", data="zeros(20000, 100)", taps=list(range(10_000)))],
                     outputs=[dict(name="y", expression="x")])
    assert p.field == "sequences[0].taps" and "10,000 taps" in p.message


def test_eight_large_non_sequences_are_summed():
    (p,) = _problems(non_sequences=[dict(name=f"w{i}", value="zeros(10**8)") for i in range(8)],
                     outputs=[dict(name="y", expression="w0[0]")], n_steps=2)
    assert p.field == "non_sequences[2].value" and p.column == 1
    assert "800,000,000 bytes" in p.message and "2.4 GB" in p.message


def test_nested_sums_in_a_non_sequence():
    text = "ones(10**8) + (" * 18 + "ones(10**8)" + ")" * 18  # 19 of them: 15 GB of float64
    (p,) = _problems(non_sequences=[dict(name="w", value=text)], outputs=[dict(name="y", expression="w[0]")],
                     n_steps=2)
    assert p.field == "non_sequences[0].value" and p.column is not None and "bytes" in p.message


def test_a_reversed_copy_counts(small_budget):
    (p,) = _problems(sequences=[dict(name="x", data="zeros(10**6)", reversed=True)],
                     outputs=[dict(name="y", expression="x")], n_steps=2)
    assert p.field == "sequences[0].reversed" and "reversed copy" in p.message


def test_value_dependent_sizes_are_charged_while_evaluating(small_budget):
    # zeros(sum(...)) has no shape before its values: refused while it really evaluates.
    (p,) = _problems(non_sequences=[dict(name="n", value="sum(ones(10))"), dict(name="w", value="zeros(n * 10**6)")],
                     outputs=[dict(name="y", expression="w[0]")], n_steps=2)
    assert p.field == "non_sequences[1].value" and "bytes" in p.message


def test_run_spec_refuses_too():
    spec = ScanSpec.from_dict(dict(outputs=[dict(name="y", expression="zeros(10000)")], n_steps=100_000))
    with pytest.raises(ConfigError) as info:
        run_spec(spec)
    assert info.value.problems[0].field == "outputs[0].expression"


def test_a_spec_within_the_budget_runs():
    spec = ScanSpec.from_dict(dict(outputs=[dict(name="y", expression="y + ones(3)", initial="zeros(3)")],
                                   n_steps=1000))
    assert check(spec) == []
    assert run_spec(spec).outputs["y"].shape == (1000, 3)


@pytest.mark.parametrize("seed", [2**64, 2**63, -1])
def test_a_seed_out_of_range_is_a_field_problem(seed):
    from explorer.core.presets import load_preset

    data = load_preset("scan", "fibonacci")
    data["seed"] = seed
    (p,) = check(ScanSpec.from_dict(data))
    assert p.field == "seed" and "0 to" in p.message
