"""Numbers in a ScanSpec that are not an expression (``array`` on a sequence or a
non-sequence): read by the one decoder with every bad part named by its index, counted by
the budget, run as data, written back by the JSON round trip."""

import json

import pytest
import torch

from explorer.core import budget
from explorer.core.errors import ConfigError
from explorer.core.expr import MAX_ELEMENTS
from explorer.core.spec import ArraySpec, NonSequenceSpec, OutputSpec, ScanSpec, SequenceSpec, check, run_spec
from explorer.core.spec.model import ARRAY_MAX_DIMS


def spec_data(values, dtype="float32", **row) -> dict:
    return {"sequences": [{"name": "x", "array": {"values": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
                                                  "dtype": "float32", "note": "probe"}}],
            "non_sequences": [{"name": "W", "array": {"values": values, "dtype": dtype, "note": "weights"}, **row}],
            "outputs": [{"name": "y", "expression": "y + x @ W", "initial": "zeros(2)"}]}


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setenv(budget.ENV, str(10**5))
    budget.refresh()
    yield
    monkeypatch.undo()
    budget.refresh()


def test_arrays_run_as_data_and_round_trip_through_json():
    spec = ScanSpec.from_dict(spec_data([[1.0, 0.0], [0.0, 2.0]]))
    w = spec.non_sequences[0].array
    assert w.shape == (2, 2) and w.summary() == "weights, 2×2, float32" and spec.non_sequences[0].value == ""
    run = run_spec(spec)
    assert run.outputs["y"].tolist() == [[1.0, 4.0], [4.0, 12.0], [9.0, 24.0]]
    text = spec.to_json()
    assert ScanSpec.from_json(text) == spec
    row = json.loads(text)["non_sequences"][0]
    assert "value" not in row and row["array"]["values"] == [[1.0, 0.0], [0.0, 2.0]]
    assert "[1.0, 0.0]," in text  # one line per row, not one number per line
    plain = ScanSpec(outputs=(OutputSpec("y", "1.0"),), n_steps=1)
    assert "array" not in json.dumps(plain.to_dict())  # files without arrays stay as they were


def test_float32_numbers_come_back_bit_for_bit():
    w = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))  # float32
    spec = ScanSpec(non_sequences=(NonSequenceSpec("W", array=ArraySpec(w.tolist(), "float32")),),
                    outputs=(OutputSpec("y", "W"),), n_steps=1, dtype="float32")
    again = ScanSpec.from_json(spec.to_json())
    assert torch.equal(run_spec(again).outputs["y"][0], w)


@pytest.mark.parametrize("values, where, words", [
    ([[1.0, 2.0], [3.0]], "values[1]", "ragged"),
    ([[1.0, 2.0], 3.0], "values[1]", "where a list of 2 is expected"),
    ([1.0, [2.0]], "values[1]", "a list where a number is expected"),
    ([[1.0, "a"]], "values[0][1]", "numbers only"),
    ([[1.0, None]], "values[0][1]", "numbers only"),
    ([True, 1.0], "values[0]", "the bool true"),
    ([1.0, float("nan")], "values[1]", "finite numbers"),
    ([float("-inf")], "values[0]", "finite numbers"),
    ([10**400], "values[0]", "too big for a float"),
    ({"a": 1}, "values", "must be a list of numbers"),
    (3.5, "values", "must be a list of numbers"),
])
def test_every_bad_part_of_an_array_is_named_by_its_index(values, where, words):
    with pytest.raises(ConfigError) as info:
        ScanSpec.from_dict(spec_data(values))
    (problem,) = info.value.problems
    assert problem.field == f"non_sequences[0].array.{where}" and words in problem.message


def test_too_deep_and_too_many_numbers_are_refused_before_reading_them():
    deep = 1.0
    for _ in range(ARRAY_MAX_DIMS + 1):
        deep = [deep]
    with pytest.raises(ConfigError, match=f"at most {ARRAY_MAX_DIMS} dimensions"):
        ScanSpec.from_dict(spec_data(deep))
    row = [0.0] * 10_000
    huge = [row] * (MAX_ELEMENTS // 10_000 + 1)  # 10^8 + 10^4 numbers, one row shared: no memory
    with pytest.raises(ConfigError) as info:
        ScanSpec.from_dict(spec_data(huge))
    assert info.value.fields == ["non_sequences[0].array.values"]
    assert f"at most {MAX_ELEMENTS:,}" in str(info.value)


def test_the_rows_fields_are_checked_together():
    with pytest.raises(ConfigError) as info:
        ScanSpec.from_dict({"sequences": [{"name": "x"}], "outputs": [{"name": "y", "expression": "x"}]})
    assert info.value.fields == ["sequences[0].data"] and "or give array" in str(info.value)
    spec = ScanSpec.from_dict(spec_data([[1.0, 0.0], [0.0, 1.0]], dtype="float16", value="eye(2)"))
    fields = {p.field: p.message for p in check(spec)}
    assert set(fields) == {"non_sequences[0].value", "non_sequences[0].array.dtype"}
    assert "one or the other" in fields["non_sequences[0].value"]
    with pytest.raises(ConfigError) as info:
        ScanSpec.from_dict(spec_data([[1.0]], array_extra=1))
    assert info.value.fields == ["non_sequences[0].array_extra"]


def test_an_array_built_in_code_gets_field_problems_not_a_crash():
    ragged = ScanSpec(non_sequences=(NonSequenceSpec("W", array=ArraySpec(((1.0, 2.0), (3.0,)))),),
                      outputs=(OutputSpec("y", "W"),), n_steps=1)
    (problem,) = check(ragged)
    assert problem.field == "non_sequences[0].array.values" and "every row as long" in problem.message
    too_big = ScanSpec(non_sequences=(NonSequenceSpec("W", array=ArraySpec((1e39,), "float64")),),
                       outputs=(OutputSpec("y", "W"),), n_steps=1, dtype="float32")
    (problem,) = check(too_big)
    assert problem.field == "non_sequences[0].array.values" and "not finite in float32" in problem.message
    with pytest.raises(ConfigError):
        run_spec(too_big)


def test_arrays_count_against_the_budget(small_budget):
    big = ArraySpec(tuple([0.0] * 20_000), "float64")  # 160 KB over a 100 KB budget
    spec = ScanSpec(non_sequences=(NonSequenceSpec("W", array=big),), outputs=(OutputSpec("y", "W[0]"),), n_steps=1)
    (problem,) = check(spec)
    assert problem.field == "non_sequences[0].array" and "160,000 bytes" in problem.message
    assert budget.ENV in problem.message
    seq = ScanSpec(sequences=(SequenceSpec("x", array=ArraySpec(tuple([0.0] * 8_000), "float64")),),
                   non_sequences=(NonSequenceSpec("W", "zeros(8000)"),), outputs=(OutputSpec("y", "x"),))
    (problem,) = check(seq)  # 64 KB of x + 64 KB of W: together over
    assert problem.field == "sequences[0].array"


def test_a_sequence_array_gives_the_steps_and_can_be_reversed():
    spec = ScanSpec(sequences=(SequenceSpec("x", array=ArraySpec((1, 2, 3, 4), "float64"), reversed=True),),
                    outputs=(OutputSpec("s", "s + x", "0.0"),))
    assert check(spec) == []
    assert run_spec(spec).outputs["s"].tolist() == [4.0, 7.0, 9.0, 10.0]


def test_a_sequence_array_with_too_many_rows_is_refused_on_its_array():
    spec = ScanSpec(sequences=(SequenceSpec("x", array=ArraySpec((0.0,) * 1_000_001, "float32")),),
                    outputs=(OutputSpec("y", "x"),))
    (problem,) = check(spec)
    assert problem.field == "sequences[0].array" and "1,000,001 steps" in problem.message
