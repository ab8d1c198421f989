"""The expression language computes what numpy computes: operators, functions, indexing,
dtypes and devices, names, and the messages a user sees when an evaluation fails."""

import pickle

import numpy as np
import pytest
import torch

from explorer.core.expr import (
    FUNCTIONS, EvalContext, Expression, ExpressionError, compile_expression, evaluate,
)  # fmt: skip

F64 = EvalContext(dtype=torch.float64)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 3))  # a matrix with negative entries
P = RNG.uniform(0.5, 2.0, size=(2, 3))  # positive: for powers, logs, divisors
V = RNG.normal(size=3)
W = RNG.normal(size=3)
T3 = RNG.normal(size=(2, 3, 4))
ARRAYS = {"X": X, "P": P, "v": V, "w": W, "T3": T3}


def run(text, ctx=F64, **extra):
    env = {k: torch.from_numpy(a) for k, a in ARRAYS.items()} | extra
    return compile_expression(text)(env, ctx)


def check(text, expected, **extra):
    out = run(text, **extra)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12, equal_nan=True)


# -- operators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ref",
    [
        ("X + P", X + P),
        ("X - v", X - V),
        ("X * P", X * P),
        ("X / P", X / P),
        ("X // P", np.floor_divide(X, P)),
        ("X % P", np.mod(X, P)),
        ("P ** X", P**X),
        ("P ** 2", P**2),
        ("2 ** v", 2.0**V),
        ("X @ v", X @ V),
        ("v @ X.T", V @ X.T),
        ("X @ P.T", X @ P.T),
        ("-X", -X),
        ("+X", X),
        ("1 - X * 2", 1 - X * 2),
        ("(X + 1) / (P - 0.25)", (X + 1) / (P - 0.25)),
    ],
)
def test_operators_match_numpy(text, ref):
    check(text, ref)


@pytest.mark.parametrize(
    "text, ref",
    [
        ("X < P", X < P), ("X <= 0", X <= 0), ("X > v", X > V),
        ("X >= 0", X >= 0), ("X == X", X == X), ("X != 0", X != 0),
        ("-1 < X < 1", (-1 < X) & (X < 1)),
        ("0 < P <= 1.5 < 2", (0 < P) & (P <= 1.5)),
        ("X > 0 and P > 1", (X > 0) & (P > 1)),
        ("X > 0 or P > 1", (X > 0) | (P > 1)),
        ("not X > 0", ~(X > 0)),
        ("X > 0 and P > 1 and v > 0", (X > 0) & (P > 1) & (V > 0)),
    ],
)  # fmt: skip
def test_comparisons_and_logic_are_elementwise(text, ref):
    out = run(text)
    assert out.dtype == torch.bool
    np.testing.assert_array_equal(out.numpy(), ref)


@pytest.mark.parametrize(
    "text, value, dtype",
    [
        ("7 // 2", 3, torch.int64),
        ("-7 // 2", -4, torch.int64),
        ("-7 % 3", 2, torch.int64),
        ("7 / 2", 3.5, torch.float64),
        ("2 ** 10", 1024, torch.int64),
        ("2 ** -1", 0.5, torch.float64),
        ("2 ** 62 + (2 ** 62 - 1)", 2**63 - 1, torch.int64),
        ("1 < 2 < 3", True, torch.bool),
        ("True + True", 2, torch.int64),
        ("1e-3 * 1e3", 1.0, torch.float64),
        ("9.0 ** 9 ** 9", float("inf"), torch.float64),
        ("(-8.0) ** 0.5", float("nan"), torch.float64),
        ("1 / 0", float("inf"), torch.float64),
        ("-1 / 0", float("-inf"), torch.float64),
        ("0 / 0", float("nan"), torch.float64),
        ("1 // 0", float("inf"), torch.float64),
        ("5 % 0", float("nan"), torch.float64),
        ("0.0 ** -1", float("inf"), torch.float64),
        ("1e308 * 10", float("inf"), torch.float64),
    ],
)
def test_numbers_compute_in_python_without_raising(text, value, dtype):
    out = evaluate_in(text)
    assert out.dtype == dtype and out.dim() == 0
    np.testing.assert_equal(out.item(), value)


def evaluate_in(text, ctx=F64, **values):
    return compile_expression(text)(values, ctx)


def test_division_by_zero_on_tensors_follows_torch():
    out = run("v / zeros(3)")
    assert torch.equal(torch.isinf(out), torch.ones(3, dtype=torch.bool))


def test_python_float_meeting_an_integer_tensor_takes_the_context_dtype():
    assert run("arange(3) * 0.5").dtype == torch.float64
    assert run("arange(3) * 0.5", ctx=EvalContext(dtype=torch.float32)).dtype == torch.float32
    x32 = torch.ones(3)
    assert run("x * 0.5", x=x32).dtype == torch.float32  # a float tensor keeps its dtype


# -- functions -------------------------------------------------------------------------------

SIG = 1 / (1 + np.exp(-X))


@pytest.mark.parametrize(
    "text, ref",
    [
        ("tanh(X)", np.tanh(X)), ("sigmoid(X)", SIG), ("relu(X)", np.maximum(X, 0)),
        ("exp(X)", np.exp(X)), ("log(P)", np.log(P)), ("log1p(P)", np.log1p(P)),
        ("sqrt(P)", np.sqrt(P)), ("abs(X)", np.abs(X)), ("sin(X)", np.sin(X)), ("cos(X)", np.cos(X)),
        ("sign(X)", np.sign(X)), ("square(X)", np.square(X)), ("floor(3 * X)", np.floor(3 * X)),
        ("ceil(3 * X)", np.ceil(3 * X)), ("round(3 * X)", np.round(3 * X)),
        ("maximum(X, 0.1)", np.maximum(X, 0.1)), ("minimum(X, P)", np.minimum(X, P)),
        ("pow(P, X)", P**X), ("where(X > 0, X, 0)", np.where(X > 0, X, 0)),
        ("clip(X, -0.5, 0.5)", np.clip(X, -0.5, 0.5)), ("clip(X, lo=0)", np.clip(X, 0, None)),
        ("clip(X, hi=0)", np.clip(X, None, 0)),
        ("sum(X)", X.sum()), ("sum(X, axis=0)", X.sum(0)), ("sum(X, 1)", X.sum(1)),
        ("sum(X, axis=-1, keepdims=True)", X.sum(-1, keepdims=True)),
        ("mean(X)", X.mean()), ("mean(X, axis=1)", X.mean(1)),
        ("max(X)", X.max()), ("max(X, axis=1)", X.max(1)), ("min(X)", X.min()), ("min(X, axis=0)", X.min(0)),
        ("prod(P)", P.prod()), ("prod(P, axis=0)", P.prod(0)),
        ("argmax(X)", X.argmax()), ("argmax(X, axis=1)", X.argmax(1)),
        ("argmin(X)", X.argmin()), ("argmin(X, axis=0)", X.argmin(0)),
        ("norm(v)", np.linalg.norm(V)), ("norm(X, axis=0)", np.linalg.norm(X, axis=0)),
        ("cumsum(X, axis=1)", np.cumsum(X, 1)), ("cumsum(v)", np.cumsum(V)),
        ("softmax(X)", np.exp(X) / np.exp(X).sum(-1, keepdims=True)),
        ("softmax(X, axis=0)", np.exp(X) / np.exp(X).sum(0, keepdims=True)),
        ("dot(v, w)", V @ W), ("dot(X, v)", X @ V), ("dot(X, P.T)", X @ P.T), ("dot(2, v)", 2 * V),
        ("matmul(X, v)", X @ V), ("outer(v, w)", np.outer(V, W)), ("outer(X, v)", np.outer(X, V)),
        ("transpose(X)", X.T), ("transpose(T3)", T3.T), ("transpose(T3, 0, 2)", np.swapaxes(T3, 0, 2)),
        ("diag(v)", np.diag(V)), ("diag(v, k=1)", np.diag(V, k=1)), ("diag(v, -2)", np.diag(V, -2)),
        ("diag(X)", np.diag(X)), ("diag(X, 1)", np.diag(X, 1)),
        ("reshape(X, 3, 2)", X.reshape(3, 2)), ("reshape(X, -1)", X.reshape(-1)),
        ("reshape(X, (3, -1))", X.reshape(3, -1)), ("stack(v, w)", np.stack([V, W])),
        ("stack(v, w, axis=1)", np.stack([V, W], 1)), ("concat(v, w)", np.concatenate([V, W])),
        ("concat(X, P, axis=1)", np.concatenate([X, P], 1)), ("len(T3)", 2), ("len(v) + 1", 4),
        ("onehot(2, 4)", np.eye(4)[2]), ("onehot(arange(3), 3)", np.eye(3)), ("onehot(1.0, 2)", [0.0, 1.0]),
        ("float(3)", 3.0), ("int(2.7)", 2), ("int(-2.7)", -2), ("float(arange(2))", [0.0, 1.0]),
        ("eye(3)", np.eye(3)), ("eye(2, 3)", np.eye(2, 3)), ("ones(2, 3)", np.ones((2, 3))),
        ("ones((2, 3))", np.ones((2, 3))), ("zeros(2)", np.zeros(2)), ("ones()", 1.0),
        ("full(0.5, 2, 2)", np.full((2, 2), 0.5)), ("full(sum(v), 2)", np.full(2, V.sum())),
        ("ones_like(X)", np.ones_like(X)), ("zeros_like(v)", np.zeros_like(V)),
        ("arange(5)", np.arange(5)), ("arange(1, 5)", np.arange(1, 5)),
        ("arange(5, 1, -2)", np.arange(5, 1, -2)),
        ("arange(0, 1, 0.25)", np.arange(0, 1, 0.25)), ("arange(5, step=2)", np.arange(0, 5, 2)),
        ("linspace(0, 1, 5)", np.linspace(0, 1, 5)), ("linspace(1, -1, 1)", np.linspace(1, -1, 1)),
    ],
)  # fmt: skip
def test_functions_match_numpy(text, ref):
    check(text, ref)


def test_dot_of_higher_dimensional_tensors_is_numpys_dot():
    b = RNG.normal(size=(5, 4, 2))
    check("dot(T3, B)", np.dot(T3, b), B=torch.from_numpy(b))


@pytest.mark.parametrize(
    "text, dtype",
    [
        ("arange(3)", torch.int64), ("arange(3.0)", torch.float64), ("arange(0, 1, 0.5)", torch.float64),
        ("sum(arange(3))", torch.int64), ("abs(-arange(3))", torch.int64), ("mean(arange(3))", torch.float64),
        ("tanh(arange(3))", torch.float64), ("argmax(v)", torch.int64), ("len(v)", torch.int64),
        ("int(v)", torch.int64), ("full(2, 2)", torch.int64), ("full(2.0, 2)", torch.float64),
        ("onehot(1, 3)", torch.float64), ("[1, 2]", torch.int64), ("[1, 2.5]", torch.float64),
        ("[True, False]", torch.bool), ("[[1, 2], [3, 4]]", torch.int64),
        ("1.5", torch.float64), ("2", torch.int64),
    ],
)  # fmt: skip
def test_result_dtypes(text, dtype):
    assert run(text).dtype == dtype


def test_functions_table_has_help_for_every_entry():
    required = set(
        "tanh sigmoid relu exp log sqrt abs sin cos sum mean max min where clip softmax dot outer eye ones "
        "zeros arange grad maximum minimum diag reshape ones_like zeros_like len linspace full stack concat "
        "onehot argmax argmin float int sign square log1p floor round pow norm prod cumsum transpose matmul "
        "rand randn bernoulli categorical randint".split()
    )
    assert required <= set(FUNCTIONS)
    for name, fn in FUNCTIONS.items():
        assert fn.name == name and fn.signature.startswith(f"{name}(") and fn.doc
        assert "\n" not in fn.doc


# -- indexing and .T -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ref",
    [
        ("v[1]", V[1]), ("v[-1]", V[-1]), ("X[1, 2]", X[1, 2]), ("X[1][2]", X[1][2]),
        ("X[-1, -3]", X[-1, -3]),
        ("X[:, 0]", X[:, 0]), ("X[1, :]", X[1, :]), ("v[1:3]", V[1:3]), ("v[::-1]", V[::-1]),
        ("v[::-2]", V[::-2]), ("v[2:0:-1]", V[2:0:-1]), ("v[5:-5:-1]", V[5:-5:-1]), ("v[0:3:-1]", V[0:3:-1]),
        ("X[::-1, 1:]", X[::-1, 1:]), ("T3[..., 0]", T3[..., 0]), ("T3[1, ..., ::-1]", T3[1, ..., ::-1]),
        ("T3[:, ::-2, 1]", T3[:, ::-2, 1]), ("v[len(v) - 1]", V[-1]), ("v[1.0]", V[1]), ("v[0:2.0]", V[0:2]),
        ("v[[2, 0]]", V[[2, 0]]), ("X[()]", X), ("[10, 20, 30][1]", 20), ("v.T", V), ("X.T", X.T),
        ("(X @ v).T", X @ V), ("X.T[0]", X.T[0]),
    ],
)  # fmt: skip
def test_indexing_matches_numpy(text, ref):
    check(text, ref)


def test_index_may_be_a_0d_tensor_holding_a_whole_number():
    check("v[i]", V[2], i=torch.tensor(2))
    check("v[i]", V[2], i=torch.tensor(2.0))
    check("X[i, j]", X[1, 0], i=torch.tensor(1), j=0.0)
    check("v[i:]", V[1:], i=torch.tensor(1))


@pytest.mark.parametrize(
    "text, column, fragment",
    [
        ("v[1.5]", 3, "index must be a whole number; got 1.5"),
        ("v[i]", 3, "`i`: index must be a whole number; got 0.5"),
        ("v[v > 0]", 3, "index must be a whole number; got a bool"),
        ("v[True]", 3, "index must be a whole number; got a bool"),
        ("v[0:0.5]", 3, "a slice stop must be a whole number; got 0.5"),
        ("v[5]", 1, "index 5 is out of bounds for dimension 0 with size 3"),
        ("X[0, 0, 0]", 1, "too many indices: 3 for a value of shape (2, 3) (2 dimensions)"),
        ("T3.T", 1, "write transpose(x)"),
    ],
)
def test_indexing_refusals_name_the_index(text, column, fragment):
    with pytest.raises(ExpressionError) as info:
        run(text, i=torch.tensor(0.5))
    assert info.value.column == column
    assert fragment in info.value.message


# -- names, contexts and the Expression object ----------------------------------------------------


def test_expression_reports_its_names_functions_and_text():
    expr = compile_expression("tanh(x_tm1 @ W + y @ U + b) + grad(sum(z * z), z)")
    assert isinstance(expr, Expression)
    assert expr.names == {"x_tm1", "W", "y", "U", "b", "z"}
    assert expr.functions == {"tanh", "grad", "sum"}
    assert expr.text == "tanh(x_tm1 @ W + y @ U + b) + grad(sum(z * z), z)"
    assert not expr.is_random and compile_expression("rand(2) + x").is_random
    assert repr(compile_expression("x+1")) == "Expression('x+1')"


def test_rnn_step_matches_torch_and_autograd_flows_through():
    torch.manual_seed(0)
    x, y, b = torch.randn(4), torch.randn(5), torch.randn(5)
    Wx = torch.randn(4, 5, requires_grad=True)
    Wy = torch.randn(5, 5, dtype=torch.float32)
    expr = compile_expression("tanh(x_tm1 @ W + y @ U + b)", names=["x_tm1", "W", "y", "U", "b"])
    out = expr({"x_tm1": x, "W": Wx, "y": y, "U": Wy, "b": b})
    torch.testing.assert_close(out, torch.tanh(x @ Wx + y @ Wy + b))
    out.sum().backward()
    expected = torch.autograd.grad(torch.tanh(x @ Wx + y @ Wy + b).sum(), Wx)[0]
    torch.testing.assert_close(Wx.grad, expected)


def test_gradcheck_through_a_compiled_expression():
    expr = compile_expression("sum(tanh(x @ W + b))")
    x, b = torch.randn(3, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    W = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w: expr({"x": x, "W": w, "b": b}, F64), (W,))


def test_numbers_become_tensors_with_the_context_dtype_and_device():
    meta = EvalContext(device=torch.device("meta"), dtype=torch.float64)
    created = ["1.5", "[1.0, 2.0]", "ones(2)", "eye(2)", "arange(3)", "linspace(0, 1, 3)", "rand(2)", "2 + 3"]
    for text in created:
        out = compile_expression(text)(None, meta)
        assert out.device.type == "meta", text
    assert compile_expression("1.5")(None, meta).dtype == torch.float64
    assert compile_expression("ones(2)")().dtype == torch.get_default_dtype()
    assert EvalContext(device="cpu").device == torch.device("cpu")
    with pytest.raises(ValueError, match="floating-point"):
        EvalContext(dtype=torch.int64)


def test_values_may_be_numbers_numpy_arrays_and_numpy_scalars():
    out = evaluate("a * n + s", a=np.arange(3.0), n=2, s=np.float64(0.5))
    torch.testing.assert_close(out, torch.tensor([0.5, 2.5, 4.5], dtype=torch.float64))
    with pytest.raises(ExpressionError, match="the value of 's' is a str; give a tensor or a number"):
        evaluate("s * 2", s="a")


def test_evaluate_is_exported_by_the_package():
    import explorer

    assert explorer.evaluate("x + 1", x=1).item() == 2


def test_unknown_names_are_named_with_advice():
    with pytest.raises(ExpressionError) as info:
        compile_expression("tanh(x_tm2 @ W)", names=["x_tm1", "W"])
    e = info.value
    assert (e.column, e.end_column) == (6, 10)
    assert str(e) == "column 6: unknown name 'x_tm2'; did you mean 'x_tm1'?"

    hint = {"x": "x has taps [-1]; write x_tm1"}.get
    with pytest.raises(ExpressionError, match=r"unknown name 'x'; x has taps \[-1\]; write x_tm1"):
        compile_expression("x + 1", names=["x_tm1"], unknown_name_hint=hint)
    with pytest.raises(ExpressionError, match=r"unknown name 'q'; names: W, x_tm1"):
        compile_expression("q", names=["x_tm1", "W"])
    with pytest.raises(ExpressionError, match=r"'tanh' is a function: call it, as in tanh\(x\)"):
        compile_expression("tanh + 1", names=["x"])
    with pytest.raises(ExpressionError, match=r"'x' is a variable, not a function"):
        compile_expression("x(1)", names=["x"])


def test_unknown_name_without_a_name_list_is_found_at_evaluation():
    expr = compile_expression("a + b")
    with pytest.raises(ExpressionError) as info:
        expr({"a": 1, "bb": 2})
    assert info.value.column == 5
    assert "unknown name 'b'; did you mean 'bb'?" in str(info.value)


def test_a_broken_hint_does_not_hide_the_error():
    def hint(name):
        raise KeyError(name)

    with pytest.raises(ExpressionError, match="unknown name 'y'"):
        compile_expression("y", names=["x"], unknown_name_hint=hint)


# -- messages of failed evaluations ---------------------------------------------------------------


def test_shape_mismatch_names_the_sub_expression_and_shapes():
    x, b = torch.ones(2, 3), torch.ones(2)
    with pytest.raises(ExpressionError) as info:
        evaluate("x @ b", x=x, b=b)
    assert str(info.value) == (
        "column 1: `x @ b`: cannot multiply shapes (2, 3) and (2,) — the inner dimensions must agree (3 vs 2)"
    )
    with pytest.raises(ExpressionError) as info:
        evaluate("tanh(h + x @ b)", x=x, b=torch.ones(3), h=torch.ones(3))
    assert info.value.column == 6 and info.value.end_column == 14
    assert "`h + x @ b`: shapes (3,) and (2,) cannot be broadcast together" in str(info.value)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("softmax(v, axis=1)", "axis 1 is out of range for a tensor with 1 dimension; use 0..0 or -1..-1"),
        ("reshape(X, 4, 2)", "cannot reshape shape (2, 3) (6 elements) into (4, 2)"),
        ("stack(v, X)", "stack needs values of one shape; got (2, 3), (3,)"),
        ("dot(X, X)", "cannot multiply shapes (2, 3) and (2, 3) — the inner dimensions must agree (3 vs 2)"),
        ("v @ 2", "@ needs vectors or matrices; got shapes (3,) and ()"),
        ("2 @ 3", "@ multiplies vectors and matrices; for numbers write *"),
        ("len(2)", "len() needs a value with at least one dimension"),
        ("concat(v, 1)", "a single number has none (use stack)"),
        ("arange(0, 1, 0)", "arange's step must not be 0"),
        ("onehot(5, 3)", "onehot index out of range: it must lie in 0..2 for n = 3"),
        ("transpose(X, 0)", "transpose swaps two axes"),
        ("[v, X]", "the elements of a list must have one shape"),
        ("sum(X, axis=0.5)", "axis must be a whole number; got 0.5"),
        ("eye(2.5)", "the number of rows must be a whole number; got 2.5"),
        ("full(v, 2)", "full fills with one number"),
        ("diag(T3)", "diag takes a vector or a matrix; got shape (2, 3, 4)"),
        ("n ** 99", "9 ** 99 does not fit in int64"),
        ("arange(3) ** -1", "Integers to negative integer powers are not allowed"),
    ],
)
def test_runtime_refusals_teach(text, fragment):
    with pytest.raises(ExpressionError) as info:
        run(text, n=9)
    assert fragment in str(info.value)
    assert info.value.column == 1 and info.value.text == text


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("tanh(x, y)", "tanh takes 1 positional argument, got 2: tanh(x)"),
        ("clip()", "clip takes 1 to 3 positional arguments, got 0: clip(x, lo=None, hi=None)"),
        ("stack()", "stack takes at least 1 positional argument, got 0: stack(*values, axis=0)"),
        ("max(x, 1)", "for the elementwise larger of two values write maximum(a, b)"),
        ("min(x, 1)", "for the elementwise smaller of two values write minimum(a, b)"),
        ("sum(x, dim=0)", "sum has no keyword 'dim' (keywords: axis, keepdims)"),
        ("sum(x, 0, axis=0)", "sum got 'axis' twice"),
        ("tanh(x=1)", "tanh has no keyword 'x' (keywords: none)"),
        ("grad(x)", "grad takes 2 positional arguments, got 1: grad(y, x)"),
    ],
)
def test_wrong_calls_show_the_signature(text, fragment):
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    assert fragment in info.value.message and info.value.column == 1


def test_errors_survive_pickling():
    with pytest.raises(ExpressionError) as info:
        compile_expression("1 + foo(2)")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.message, copy.column, copy.end_column, copy.text, str(copy)) == (
        info.value.message, 5, 7, "1 + foo(2)", str(info.value),
    )  # fmt: skip
