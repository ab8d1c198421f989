"""Property tests: no text makes the expression language raise anything but
ExpressionError or take long, and random arithmetic agrees with numpy bit for bit."""

from datetime import timedelta
from unittest import mock

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.expr import FUNCTIONS, EvalContext, ExpressionError, compile_expression, values

F64 = EvalContext(dtype=torch.float64, generator=torch.Generator().manual_seed(0))
FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=1),  # generous for a loaded 2-core machine; a hang takes far longer
    suppress_health_check=[HealthCheck.too_slow],
)

ENV = {
    "x": torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64),
    "y": torch.tensor([1.0, 0.0, -3.0], dtype=torch.float64),
    "W": torch.eye(3, dtype=torch.float64),
    "n": 2,
    "i": torch.tensor(1),
}

# Warm torch's lazy paths up once so the first example is not timed with them.
compile_expression("sum(tanh(x @ W + y)[i:]) + grad(sum(x * x), x)[0]")(ENV, F64)


def survives(text: str) -> None:
    """Compiling and evaluating ``text`` either works or raises ExpressionError."""
    try:
        expr = compile_expression(text)
    except ExpressionError as e:
        assert e.message and (e.column is None or 1 <= e.column <= len(text) + 1), (text, e.column)
        return
    # Small allocation budget here: random text easily spells ones(9999, 9999).
    with mock.patch.object(values, "MAX_ELEMENTS", 10_000):
        try:
            out = expr(ENV, F64)
        except ExpressionError as e:
            assert e.message
            return
    assert isinstance(out, torch.Tensor)


CHARS = "xyWni0123456789.e+-*/%@()[],:<>=!~&|^ _T'\"\\{}#;λ\n\r\t"


@FUZZ
@given(st.text(alphabet=CHARS, max_size=40))
def test_arbitrary_text_compiles_or_is_refused(text):
    survives(text)


TOKENS = (
    ["x", "y", "W", "n", "i", "z", "0", "1", "2", "2.5", "1e3", "1e400", "-1", "9**9**9", "True", "None"]
    + ["+", "-", "*", "/", "//", "%", "**", "@", "<", "<=", "==", "!=", "and", "or", "not", "&", "~"]
    + ["(", ")", "[", "]", ",", ":", "::", "...", ".T", ".shape", ".__class__", "__import__", "'a'", "f'{x}'"]
    + ["lambda", "for", "in", "if", "else", "=", ":=", "*", "axis=", "keepdims=", "import", ";"]
    + [f"{name}(" for name in FUNCTIONS]
)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=16), st.sampled_from(["", " "]))
def test_random_token_sequences_compile_or_are_refused(tokens, joiner):
    survives(joiner.join(tokens))


# -- random arithmetic trees against numpy -----------------------------------------------------

A = {
    "a": np.array([0.5, -2.0, 3.0, 0.0]),
    "b": np.array([1.5, 2.0, -0.0, 4.0]),
    "c": np.array([-1.0, 0.25, 3.0, 0.0]),
}
# Float literals only: Python ints have no -0.0, numpy floats do, and 1 / -0 would differ.
LITERALS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 1e300, -1.5])
LEAVES = st.one_of(
    st.sampled_from(sorted(A)).map(lambda name: (name, lambda env, name=name: env[name], {name})),
    LITERALS.map(lambda v: (repr(v), lambda env, v=v: np.float64(v), set())),
)
BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
# IEEE 754 leaves max(+0, -0) to the implementation: numpy returns the second zero, torch the
# first. The reference follows torch's choice (ties give the first argument; NaN propagates).
CALLS = {
    "maximum": lambda x, y: np.where(np.isnan(x) | np.isnan(y), x + y, np.where(x >= y, x, y)),
    "minimum": lambda x, y: np.where(np.isnan(x) | np.isnan(y), x + y, np.where(x <= y, x, y)),
}


def extend(children):
    binary = st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(
        lambda t: (
            f"({t[1][0]} {t[0]} {t[2][0]})",
            lambda env, t=t: BINARY[t[0]](t[1][1](env), t[2][1](env)),
            t[1][2] | t[2][2],
        )
    )
    call = st.tuples(st.sampled_from(sorted(CALLS)), children, children).map(
        lambda t: (
            f"{t[0]}({t[1][0]}, {t[2][0]})",
            lambda env, t=t: CALLS[t[0]](t[1][1](env), t[2][1](env)),
            t[1][2] | t[2][2],
        )
    )
    unary = children.map(lambda c: (f"-{c[0]}", lambda env, c=c: -c[1](env), c[2]))
    absolute = children.map(lambda c: (f"abs({c[0]})", lambda env, c=c: np.abs(c[1](env)), c[2]))
    where = st.tuples(children, children).map(
        lambda t: (
            f"where({t[0][0]} > {t[1][0]}, {t[0][0]}, {t[1][0]})",
            lambda env, t=t: np.where(t[0][1](env) > t[1][1](env), t[0][1](env), t[1][1](env)),
            t[0][2] | t[1][2],
        )
    )
    return st.one_of(binary, call, unary, absolute, where)


TREES = st.recursive(LEAVES, extend, max_leaves=12)


@FUZZ
@given(TREES)
def test_random_arithmetic_matches_numpy_exactly(tree):
    text, reference, names = tree
    expr = compile_expression(text, names=sorted(A))
    assert expr.names == names
    out = expr({k: torch.from_numpy(v) for k, v in A.items()}, F64)
    with np.errstate(all="ignore"):
        expected = reference(A)
    # + - * / max min abs where are exact IEEE operations in numpy and torch alike.
    np.testing.assert_array_equal(out.numpy(), np.broadcast_to(expected, out.shape), err_msg=text)


BOUND = st.one_of(st.none(), st.integers(-7, 7))


@FUZZ
@given(BOUND, BOUND, st.one_of(st.none(), st.integers(-3, 3).filter(bool)), st.integers(-2, 1))
def test_slices_match_numpy(start, stop, step, row):
    m = np.arange(20.0).reshape(4, 5)
    part = ":".join("" if v is None else str(v) for v in (start, stop, step))
    got = compile_expression(f"m[{row}, {part}]")({"m": torch.from_numpy(m)})
    np.testing.assert_array_equal(got.numpy(), m[row, slice(start, stop, step)])
    got = compile_expression(f"m[{part}, {row}]")({"m": torch.from_numpy(m)})
    np.testing.assert_array_equal(got.numpy(), m[slice(start, stop, step), row])
