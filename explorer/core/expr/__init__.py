"""The safe expression language: what a user types into a form field.

    expr = compile_expression("tanh(x_tm1 @ W + b)", names={"x_tm1", "W", "b"})
    h = expr({"x_tm1": x, "W": W, "b": b})          # a torch.Tensor; autograd flows through

The text is parsed with Python's ``ast`` and checked against an allow-list (never
``eval``), within limits on length, depth and size, then compiled once into nested
closures over torch operations. The pieces:

- :mod:`.parse`: limits and the allow-list of syntax;
- :mod:`.compile`: the tree as closures, ``grad`` and error placement;
- :mod:`.operators`, :mod:`.indexing`: operators, indexing, ``.T``;
- :mod:`.functions`, :mod:`.constructors`: the function table (:data:`FUNCTIONS`);
- :mod:`.values`: numbers vs tensors, sizes, the allocation limit.
"""

from __future__ import annotations

from .context import EvalContext
from .errors import ExpressionError
from .expression import Expression, compile_expression, evaluate
from .parse import MAX_DEPTH, MAX_INT, MAX_LENGTH, MAX_NODES
from .table import FUNCTIONS, Function
from .values import MAX_ELEMENTS

__all__ = [
    "compile_expression", "evaluate", "Expression", "ExpressionError", "EvalContext",
    "FUNCTIONS", "Function", "MAX_LENGTH", "MAX_DEPTH", "MAX_NODES", "MAX_INT", "MAX_ELEMENTS",
]  # fmt: skip
