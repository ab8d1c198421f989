"""What the expression language refuses, where it says the problem is, and that every
refusal is quick: forbidden syntax, limits, numbers and tensors too big to make."""

import time

import pytest
import torch

from explorer.core.expr import (
    FUNCTIONS, MAX_DEPTH, MAX_ELEMENTS, MAX_LENGTH, MAX_NODES, EvalContext, ExpressionError,
    compile_expression, evaluate,
)  # fmt: skip

QUICK = 0.5  # seconds: a refusal must never take longer


def refusal(text, **values):
    """The ExpressionError that compiling (and, with values, evaluating) ``text`` raises."""
    start = time.perf_counter()
    with pytest.raises(ExpressionError) as info:
        expr = compile_expression(text)
        if values:
            expr(values)
    assert time.perf_counter() - start < QUICK, f"refusing {text[:40]!r} took too long"
    assert str(info.value).startswith(f"column {info.value.column}: " if info.value.column else "")
    return info.value


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("x.shape", 3, "attribute '.shape' is not available; len(x) gives the first dimension"),
        ("x.foo + 1", 3, "attribute '.foo' is not allowed; the only attribute is .T (transpose)"),
        ("x.__class__", 3, "names starting with '__' are not allowed ('.__class__')"),
        ("().__class__", 4, "names starting with '__' are not allowed"),
        ("1 + __import__", 5, "names starting with '__' are not allowed ('__import__')"),
        ("x.T.real", 5, "attribute '.real' is not allowed"),
        ("lambda: 1", 1, "lambda expressions are not allowed"),
        ("1 + (lambda x: x)(2)", 6, "lambda expressions are not allowed"),
        ("[i for i in x]", 1, "comprehensions are not allowed"),
        ("sum(i for i in x)", 4, "comprehensions are not allowed"),
        ("{i: 1 for i in x}", 1, "comprehensions are not allowed"),
        ("'a'", 1, "strings are not allowed"),
        ("x + 'a' * 10**10", 5, "strings are not allowed"),
        ("b'a'", 1, "strings are not allowed"),
        ("f'{x}'", 1, "f-strings are not allowed"),
        ("tanh(*x)", 6, "starred arguments (*x) are not allowed"),
        ("[*x]", 2, "starred arguments"),
        ("tanh(**x)", 6, "keyword unpacking (**kw) is not allowed"),
        ("(y := 2)", 2, "assignment expressions (:=) are not allowed"),
        ("x if x > 0 else 0", 1, "write where(c, a, b)"),
        ("{1, 2}", 1, "sets are not allowed"),
        ("{1: 2}", 1, "dicts are not allowed"),
        ("import os", 1, "'import' is not allowed"),
        ("from os import path", 1, "'import' is not allowed"),
        ("x = 1", 1, "assignments (=) are not allowed; write only the right-hand side"),
        ("x += 1", 1, "assignments (+= and the like) are not allowed"),
        ("for i in x: pass", 1, "statements (for) are not allowed"),
        ("x; y", 4, "write one expression; found several"),
        ("x(1)", 1, "unknown function 'x'"),
        ("tanh(x)(1)", 1, "only functions from the function table can be called"),
        ("x[0](1)", 1, "only functions from the function table can be called"),
        ("torch.tanh(x)", 1, "only table functions can be called, by their plain name: write tanh(...)"),
        ("x.sum()", 1, "write sum(...)"),
        ("x.__add__(1)", 1, "only table functions can be called"),
        ("foo(x)", 1, "unknown function 'foo'; did you mean 'floor'?"),
        ("2 * tanhh(x)", 5, "unknown function 'tanhh'; did you mean 'tanh'?"),
        ("qqq(x)", 1, "unknown function 'qqq'; functions: abs, arange, argmax"),
        ("sum(x, dim=0)", 1, "sum has no keyword 'dim'"),
        ("x & y", 1, "'&' is not supported; write 'and'"),
        ("x | y", 1, "'|' is not supported; write 'or'"),
        ("x ^ 2", 1, "write ** for a power"),
        ("1 << 100", 1, "'<<' is not supported"),
        ("~x", 1, "'~' is not supported; write 'not x'"),
        ("x is None", 1, "'is' is not supported"),
        ("1 in x", 1, "'in' is not supported"),
        ("x[None]", 3, "None is not allowed here"),
        ("...", 1, "'...' is only allowed inside an index"),
        ("1j * x", 1, "complex numbers are not supported"),
        ("99999999999999999999", 1, "too large for int64; write it as a float"),
        ("tanh(x", 5, "'(' was never closed"),
        ("x +* 2", 4, "invalid syntax"),
        ("grad(sum(x), x[0])", 14, "grad's second argument must be a variable name"),
        ("await x", 1, "'await' is not allowed"),
    ],
)
def test_forbidden_constructs_are_refused_with_their_column(text, column, fragment):
    e = refusal(text)
    assert e.column == column, str(e)
    assert fragment in e.message, str(e)
    assert e.text == text


def test_columns_count_characters_and_whole_text():
    assert refusal("αβ + x.foo").column == 8  # the parser counts UTF-8 bytes; users count characters
    assert refusal("  x.foo").column == 5  # leading blanks are kept in the count
    e = refusal("(x +\n  y.foo)")
    assert (e.column, e.end_column) == (10, 12)  # columns count from the start of the text
    assert refusal("(x +\r\n  y.foo)").column == 11  # \r\n and a lone \r end lines as in Python
    assert refusal("(x +\r  y.foo)").column == 10


def test_empty_and_non_text_input_is_refused():
    assert "empty" in refusal("   ").message
    assert "must be text" in refusal(42).message  # type: ignore[arg-type]
    assert "cannot be read" in refusal("x\0").message or "null" in refusal("x\0").message


def test_text_longer_than_the_limit_is_refused_before_parsing():
    e = refusal("x + " * (MAX_LENGTH // 4) + "x")
    assert f"at most {MAX_LENGTH:,}" in e.message


def test_deep_nesting_is_refused():
    e = refusal("-" * MAX_DEPTH + "x")
    assert f"more than {MAX_DEPTH} levels" in e.message
    compile_expression("-" * (MAX_DEPTH - 1) + "x")  # one level less is fine
    assert refusal("(" * 300 + "x" + ")" * 300).message  # the parser's own limit
    refusal("-" * (MAX_LENGTH - 1) + "x")  # far beyond Python's recursion limit
    refusal("x" + "[0]" * 600)


def test_too_many_parts_are_refused():
    e = refusal("stack(" + ", ".join(["x"] * MAX_NODES) + ")")
    assert f"more than {MAX_NODES} parts" in e.message


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("9**9**9", "9 ** 387420489 does not fit in int64; write a float"),
        ("10**10**10", "10 ** 10000000000 does not fit in int64"),
        ("2**63", "does not fit in int64"),
        ("-(2**62) * 4", "does not fit in int64"),
        ("2**62 + 2**62", "does not fit in int64"),
        ("'a'*10**10", "strings are not allowed"),
        ("ones(10**6, 10**6)", f"at most {MAX_ELEMENTS:,} are allowed"),
        ("zeros(10**5, 10**5)", "zeros would have 10,000,000,000 elements"),
        ("randn(10**9)", "randn would have"),
        ("eye(10**7)", "eye would have"),
        ("arange(1e12)", "arange would have 1,000,000,000,000 elements"),
        ("linspace(0, 1, 10**9)", "linspace would have"),
        ("full(1, 10**5, 10**5)", "full would have"),
        ("diag(ones(10**5))", "the diagonal matrix would have"),
        ("onehot(arange(10**5), 10**5)", "onehot would have"),
        ("outer(ones(10**5), ones(10**5))", "the outer product would have"),
        ("reshape(ones(10**5), -1, 1) * ones(10**5)", "the result would have 10,000,000,000 elements"),
        ("reshape(ones(10**5), -1, 1) @ reshape(ones(10**5), 1, -1)", "the product would have"),
        ("ones(-1)", "a size must not be negative; got -1"),
        ("ones(2.5)", "a size must be a whole number; got 2.5"),
        ("arange(1e400)", "stop must be finite; got inf"),
        ("randint(5, 5)", "randint needs low < high"),
    ],
)
def test_blowups_are_refused_quickly(text, fragment):
    e = refusal(text, unused=0)
    assert fragment in e.message, str(e)


def test_integer_overflow_at_evaluation_is_refused_too():
    assert "does not fit in int64" in refusal("n ** n ** n", n=9).message
    assert "does not fit in int64" in refusal("n * n", n=2**40).message
    assert "does not fit in int64" in refusal("x", x=2**70).message
    assert evaluate("n ** 2.0 ** 10", n=9).item() == float("inf")  # floats overflow to inf


def test_refusals_change_nothing():
    before = (dict(FUNCTIONS), torch.get_default_dtype(), torch.is_grad_enabled())
    with torch.no_grad():
        for text in ["grad(sum(x) @ x, x)", "grad(x, x)", "ones(10**9)", "x.foo", "9**9**9"]:
            with pytest.raises(ExpressionError):
                compile_expression(text)({"x": torch.ones(3)})
        assert not torch.is_grad_enabled()
    assert (dict(FUNCTIONS), torch.get_default_dtype(), torch.is_grad_enabled()) == before


def test_an_accepted_expression_at_the_limits_compiles_and_runs_fast():
    text = "+".join(["x"] * 39)  # depth 39: one level per +
    start = time.perf_counter()
    out = compile_expression(text)({"x": torch.ones(2)}, EvalContext())
    assert time.perf_counter() - start < QUICK
    assert out.tolist() == [39.0, 39.0]
