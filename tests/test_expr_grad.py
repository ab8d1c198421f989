"""``grad(y, x)``: Theano's Jacobian-by-scan example, gradients of gradients, and the
modes it must work in (no_grad, parameters that already require grad)."""

import numpy as np
import pytest
import torch

from explorer.core.expr import EvalContext, ExpressionError, compile_expression, evaluate

F64 = EvalContext(dtype=torch.float64)


def theano_jacobian_inputs():
    v = torch.eye(5, dtype=torch.float64)[0]
    A = torch.eye(5, 3, dtype=torch.float64)
    A[2] = 1.0
    return v, A


def test_theano_jacobian_rows():
    # Theano's docs: the Jacobian of tanh(v @ A) by scanning grad over the output's index.
    v, A = theano_jacobian_inputs()
    row = compile_expression("grad(tanh(v @ A)[i], v)", names=["v", "A", "i"])
    jacobian = torch.stack([row({"v": v, "A": A, "i": i}, F64) for i in range(3)])
    expected = [[0.41997434, 0, 0.41997434, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 0, 0]]
    np.testing.assert_allclose(jacobian.numpy(), expected, atol=1e-8)
    assert not jacobian.requires_grad  # nothing given requires grad: no graph is kept
    assert not v.requires_grad  # the caller's tensor is left as it was


def test_grad_inside_no_grad_gives_a_plain_tensor_and_leaves_the_mode():
    v, A = theano_jacobian_inputs()
    with torch.no_grad():
        g = evaluate("grad(sum(tanh(v @ A)), v)", v=v, A=A)
        assert not torch.is_grad_enabled()
    assert g.grad_fn is None and not g.requires_grad
    torch.testing.assert_close(g, A @ (1 - torch.tanh(v @ A) ** 2))


def test_grad_keeps_the_graph_when_gradients_are_on():
    # With grad enabled the result is differentiable: second derivatives and training work.
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    g = evaluate("grad(sum(x ** 3), x)", x=x)  # 3 x^2, a function of the leaf x
    torch.testing.assert_close(g, 3 * x.detach() ** 2)
    (h,) = torch.autograd.grad(g.sum(), x)
    torch.testing.assert_close(h, 6 * x.detach())


def test_grad_of_a_grad():
    out = compile_expression("grad(sum(grad(sum(x ** 3), x)), x)")({"x": torch.tensor([1.0, 2.0])})
    torch.testing.assert_close(out, torch.tensor([6.0, 12.0]))


def test_gradient_flows_to_other_parameters_through_grad():
    W = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = torch.tensor([1.0, -1.0])
    g = evaluate("grad(sum(tanh(x @ W)), x)", x=x, W=W)
    g.sum().backward()
    assert W.grad is not None and torch.isfinite(W.grad).all()


def test_y_that_does_not_depend_on_x_gives_zeros():
    x = torch.ones(2, 3)
    for text in ["grad(sum(y), x)", "grad(3.0, x)", "grad(len(x), x)", "grad(argmax(x), x)"]:
        g = evaluate(text, x=x, y=torch.ones(4, requires_grad=True))
        assert torch.equal(g, torch.zeros(2, 3)), text


def test_numbers_and_integer_tensors_are_differentiated_as_floats():
    assert evaluate("grad(x * x, x)", x=3).item() == 6.0
    g = compile_expression("grad(sum(x * x), x)")({"x": torch.arange(3)}, F64)
    assert g.dtype == torch.float64 and g.tolist() == [0.0, 2.0, 4.0]


def test_grad_refuses_a_non_scalar_first_argument():
    with pytest.raises(ExpressionError) as info:
        evaluate("1 + grad(tanh(x), x)", x=torch.ones(3))
    e = info.value
    assert e.column == 5 and e.end_column == 20
    assert e.message == (
        "`grad(tanh(x), x)`: grad needs a scalar first argument; got shape (3,); "
        "index it (y[i]) or sum it (sum(y))"
    )


def test_grad_needs_a_name_as_second_argument():
    with pytest.raises(ExpressionError, match=r"must be a variable name, as in grad\(y, x\); got `2 \* x`"):
        compile_expression("grad(sum(x), 2 * x)")
    with pytest.raises(ExpressionError, match="unknown name 'z'"):
        compile_expression("grad(sum(x), z)", names=["x"])
