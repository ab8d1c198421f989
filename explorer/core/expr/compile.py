"""From a checked syntax tree to nested closures: ``run(env, ctx) -> value``.

Each node becomes one closure that calls its children's closures and applies one
operation, so evaluating walks no tree and makes no type dispatch beyond what the
operation itself needs. Each closure knows its place in the text: a failure inside it
(a :class:`~.errors.Problem` or a torch error) becomes an :class:`ExpressionError` naming
the column, the sub-expression's source and the operand shapes.

Sub-expressions made only of numbers (``-1``, ``2 ** 10``, ``1 / 3``) are folded here,
once, so ``9 ** 9 ** 9`` is refused at compile time. Shapes known without evaluating
(``zeros(10**8)``, and what is computed from such values) are inferred here too, with
what each operation creates (:mod:`.static`), so a program can be refused from sizes. ``grad(y, x)`` is a special form
(see :mod:`.grad`).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping
from typing import Any

import torch

# Importing these fills FUNCTIONS; math first, as the help lists the table in its order.
from . import functions  # noqa: F401  # isort: skip
from . import constructors  # noqa: F401  # isort: skip
from .errors import ExpressionError, Problem
from .grad import grad_form
from .indexing import explain_index, getitem, index, slice_bound, transpose_T
from .operators import BINARY, COMPARE, UNARY, explain, logical_and, logical_or
from .parse import BINARY_SYMBOLS, COMPARE_SYMBOLS, UNARY_SYMBOLS, Source
from .static import ELEMENTWISE, Cost, constructor_shape, elementwise_shape, matmul_shape
from .table import FUNCTIONS
from .values import Tensor, from_env, list_value, literal_dtype, to_tensor

__all__ = ["build"]

Run = Callable[[Mapping[str, Any], Any], Any]
# What an operation may raise on bad operands; each becomes an ExpressionError.
_FAILURES = (Problem, ArithmeticError, LookupError, MemoryError, RuntimeError, TypeError, ValueError)


def build(tree: ast.expr, source: Source, names, hint):
    """Compile ``tree``; return the root closure, the names it reads, the functions it
    calls and the static costs (:class:`~.static.Cost`, in evaluation order)."""
    compiler = _Compiler(source, names, hint)
    run = compiler.compile(tree)
    return run, frozenset(compiler.names_read), frozenset(compiler.functions_used), tuple(compiler.costs)


def _shape_of(run: Run):
    """A closure's static shape, a number constant as itself (it broadcasts), else None."""
    shape = getattr(run, "shape", None)
    if shape is not None:
        return shape
    value = getattr(run, "constant", None)
    return value if type(value) in (int, float, bool) else None


def _constant(value: Any) -> Run:
    def run(env, ctx):
        return value

    run.constant = value
    return run


def _is_constant(run: Run) -> bool:
    return hasattr(run, "constant")


class _Compiler:
    def __init__(self, source: Source, names: frozenset[str] | None, hint):
        self.source = source
        self.allowed = names
        self.hint = hint
        self.names_read: set[str] = set()
        self.functions_used: set[str] = set()
        self.costs: list[Cost] = []  # what the operations with static shapes create

    def _static(self, run: Run, shape, node: ast.AST, work: int = 0) -> Run:
        """Mark ``run`` with its static ``shape`` (None: unknown) and record its cost."""
        if shape is not None and type(shape) not in (int, float, bool):
            run.shape = shape
            span = self.source.span(node)
            elements = 1
            for d in shape:
                elements *= d
            self.costs.append(Cost(elements, work, span.column, span.source))
        return run

    def compile(self, node: ast.AST) -> Run:
        return _HANDLERS[type(node)](self, node)

    def _fail(self, node: ast.AST, explain_fn) -> Callable[[Exception, tuple], ExpressionError]:
        """How a failure of ``node``'s operation is reported: ``fail(exc, operands)``."""
        span, text = self.source.span(node), self.source.text

        def fail(exc: Exception, operands: tuple) -> ExpressionError:
            if isinstance(exc, ExpressionError):
                return exc
            message = f"`{span.source}`: {explain_fn(exc, operands)}"
            return ExpressionError(message, span.column, span.end_column, text)

        return fail

    def _fold(self, op, values: tuple, fail) -> Run:
        try:
            return _constant(op(*values, None))  # numbers only: the context is not needed
        except _FAILURES as exc:
            raise fail(exc, values) from None

    # -- leaves -------------------------------------------------------------------------

    def _literal(self, node: ast.Constant) -> Run:
        return _constant(node.value)

    def _name(self, node: ast.Name) -> Run:
        name = node.id
        if self.allowed is not None and name not in self.allowed:
            raise self.source.error(self._unknown_name(name, self.allowed), node)
        self.names_read.add(name)
        source, span, unknown = self.source, self.source.span(node), self._unknown_name

        def run(env, ctx):
            try:
                value = env[name]
            except KeyError:
                raise source.error(unknown(name, env), span) from None
            if type(value) is Tensor or type(value) is float:
                return value
            try:
                return from_env(name, value)
            except Problem as exc:
                raise source.error(exc.message, span) from None

        return run

    def _unknown_name(self, name: str, known) -> str:
        parts = [f"unknown name '{name}'"]
        if self.hint is not None:
            try:
                advice = self.hint(name)
            except Exception:  # noqa: BLE001 - the caller's advice is optional; never hide our error
                advice = None
            if advice:
                parts.append(str(advice))
        if name in FUNCTIONS:
            parts.append(f"'{name}' is a function: call it, as in {FUNCTIONS[name].signature}")
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3)
        if close:
            parts.append("did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
        elif known:
            parts.append("names: " + ", ".join(known))
        else:
            parts.append("no names are defined here")
        return "; ".join(parts)

    # -- operators ----------------------------------------------------------------------

    def _binop(self, node: ast.BinOp) -> Run:
        symbol = BINARY_SYMBOLS[type(node.op)]
        op = BINARY[symbol]
        left, right = self.compile(node.left), self.compile(node.right)
        fail = self._fail(node, lambda exc, operands: explain(symbol, operands, exc))
        if _is_constant(left) and _is_constant(right):
            return self._fold(op, (left.constant, right.constant), fail)

        def run(env, ctx):
            a = left(env, ctx)
            b = right(env, ctx)
            try:
                return op(a, b, ctx)
            except _FAILURES as exc:
                raise fail(exc, (a, b)) from None

        shapes = [_shape_of(left), _shape_of(right)]
        if symbol == "@":
            known = None if any(type(s) is not tuple for s in shapes) else matmul_shape(*shapes)
            return self._static(run, known[0], node, known[1]) if known else run
        return self._static(run, elementwise_shape(shapes), node)

    def _unaryop(self, node: ast.UnaryOp) -> Run:
        symbol = UNARY_SYMBOLS[type(node.op)]
        op = UNARY[symbol]
        operand = self.compile(node.operand)
        fail = self._fail(node, lambda exc, operands: explain(symbol, operands, exc))
        if _is_constant(operand):
            return self._fold(op, (operand.constant,), fail)

        def run(env, ctx):
            a = operand(env, ctx)
            try:
                return op(a, ctx)
            except _FAILURES as exc:
                raise fail(exc, (a,)) from None

        shape = getattr(operand, "shape", None)
        if symbol == "+" and shape is not None:
            run.shape = shape  # +x creates nothing
            return run
        return self._static(run, shape, node)

    def _compare(self, node: ast.Compare) -> Run:
        # a < b < c means (a < b) and (b < c), elementwise, with b evaluated once.
        operands = [self.compile(node.left)] + [self.compile(c) for c in node.comparators]
        steps = []
        for op_node, right in zip(node.ops, operands[1:], strict=True):
            symbol = COMPARE_SYMBOLS[type(op_node)]
            fail = self._fail(node, lambda exc, pair, symbol=symbol: explain(symbol, pair, exc))
            steps.append((COMPARE[symbol], right, fail))
        first = operands[0]
        if len(steps) == 1:  # the common case: one comparison
            ((op, second, fail),) = steps

            def compare(env, ctx):
                a = first(env, ctx)
                b = second(env, ctx)
                try:
                    return op(a, b, ctx)
                except _FAILURES as exc:
                    raise fail(exc, (a, b)) from None

            return compare

        def run(env, ctx):
            a, result = first(env, ctx), None
            for op, right, fail in steps:
                b = right(env, ctx)
                try:
                    holds = op(a, b, ctx)
                    result = holds if result is None else logical_and(result, holds, ctx)
                except _FAILURES as exc:
                    raise fail(exc, (a, b)) from None
                a = b
            return result

        return run

    def _boolop(self, node: ast.BoolOp) -> Run:
        # Elementwise logic on tensors: both sides are always evaluated (no short circuit).
        op = logical_and if isinstance(node.op, ast.And) else logical_or
        symbol = "and" if isinstance(node.op, ast.And) else "or"
        first, *rest = [self.compile(v) for v in node.values]
        fail = self._fail(node, lambda exc, operands: explain(symbol, operands, exc))

        def run(env, ctx):
            result = first(env, ctx)
            for item in rest:
                value = item(env, ctx)
                try:
                    result = op(result, value, ctx)
                except _FAILURES as exc:
                    raise fail(exc, (result, value)) from None
            return result

        return run

    # -- indexing and .T --------------------------------------------------------------

    def _subscript(self, node: ast.Subscript) -> Run:
        value = self.compile(node.value)
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        parts = [self._index_part(item) for item in items]
        fail = self._fail(node, lambda exc, operands: explain_index(operands[0], exc))

        def run(env, ctx):
            x = value(env, ctx)
            key = tuple([part(env, ctx) for part in parts])
            try:
                return getitem(x if isinstance(x, Tensor) else to_tensor(x, ctx), key)
            except _FAILURES as exc:
                raise fail(exc, (x,)) from None

        return run

    def _index_part(self, node: ast.AST) -> Run:
        source, span = self.source, self.source.span(node)
        if isinstance(node, ast.Constant) and node.value is Ellipsis:
            return _constant(Ellipsis)
        if isinstance(node, ast.Slice):
            bounds = [
                (None if b is None else self.compile(b), what)
                for b, what in ((node.lower, "start"), (node.upper, "stop"), (node.step, "step"))
            ]

            def run(env, ctx):
                try:
                    return slice(*[None if b is None else slice_bound(b(env, ctx), w) for b, w in bounds])
                except Problem as exc:
                    raise source.error(f"`{span.source}`: {exc.message}", span) from None

            if all(b is None or _is_constant(b) for b, _ in bounds):
                return _constant(run({}, None))
            return run
        raw = self.compile(node)

        def run(env, ctx):
            value = raw(env, ctx)
            if type(value) is int:
                return value
            try:
                return index(value)
            except Problem as exc:
                raise source.error(f"`{span.source}`: {exc.message}", span) from None

        return _constant(run({}, None)) if _is_constant(raw) else run

    def _attribute(self, node: ast.Attribute) -> Run:
        value = self.compile(node.value)  # the parser let only .T through
        fail = self._fail(node, lambda exc, operands: explain(".T", operands, exc))

        def run(env, ctx):
            x = value(env, ctx)
            try:
                return transpose_T(x)
            except _FAILURES as exc:
                raise fail(exc, (x,)) from None

        return run

    # -- list literals ----------------------------------------------------------------

    def _sequence(self, node: ast.List | ast.Tuple) -> Run:
        items = [self.compile(e) for e in node.elts]
        fail = self._fail(node, lambda exc, operands: explain("[...]", operands, exc))
        if all(hasattr(i, "literal") or _is_constant(i) for i in items):
            nested = [getattr(i, "literal", None) if hasattr(i, "literal") else i.constant for i in items]
            kind = literal_dtype(nested)
            try:
                torch.tensor(nested, dtype=kind or torch.float64)  # refuse ragged lists now
            except _FAILURES as exc:
                raise fail(Problem(f"the rows of a list must have equal lengths ({exc})"), ()) from None

            def literal(env, ctx):
                return torch.tensor(nested, dtype=kind or ctx.dtype, device=ctx.device)

            literal.literal = nested
            return literal

        def run(env, ctx):
            values = [item(env, ctx) for item in items]
            try:
                return list_value(values, ctx)
            except _FAILURES as exc:
                raise fail(exc, tuple(values)) from None

        return run

    # -- calls ---------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> Run:
        name = node.func.id  # the parser let only plain names through
        fn = FUNCTIONS.get(name)
        if fn is None:
            raise self.source.error(self._unknown_function(name), node.func)
        self.functions_used.add(name)
        try:
            fn.check_call(len(node.args), [k.arg for k in node.keywords])
        except Problem as exc:
            raise self.source.error(exc.message, node) from None
        if fn.impl is None:
            return self._grad(node)
        impl = fn.impl
        args = [self.compile(a) for a in node.args]
        keywords = [(k.arg, self.compile(k.value)) for k in node.keywords]
        fail = self._fail(node, lambda exc, operands: explain(name, operands, exc))
        if not keywords and len(args) == 1:  # the common case, without list building
            (only,) = args

            def run(env, ctx):
                a = only(env, ctx)
                try:
                    return impl(ctx, a)
                except _FAILURES as exc:
                    raise fail(exc, (a,)) from None

        else:

            def run(env, ctx):
                values = [a(env, ctx) for a in args]
                options = {key: k(env, ctx) for key, k in keywords}
                try:
                    return impl(ctx, *values, **options)
                except _FAILURES as exc:
                    raise fail(exc, (*values, *options.values())) from None

        return self._static(run, self._call_shape(name, args, keywords), node)

    def _call_shape(self, name: str, args: list, keywords: list):
        if keywords:
            return None
        if all(_is_constant(a) for a in args):
            return constructor_shape(name, [a.constant for a in args])
        if name in ELEMENTWISE and len(args) == 1:
            return getattr(args[0], "shape", None)
        if name in ("maximum", "minimum", "where"):
            return elementwise_shape([_shape_of(a) for a in args])
        return None

    def _unknown_function(self, name: str) -> str:
        if self.allowed is not None and name in self.allowed:
            return f"'{name}' is a variable, not a function: only functions from the table can be called"
        close = difflib.get_close_matches(name, FUNCTIONS, n=3)
        if close:
            return f"unknown function '{name}'; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        return f"unknown function '{name}'; functions: " + ", ".join(sorted(FUNCTIONS))

    def _grad(self, node: ast.Call) -> Run:
        y_node, x_node = node.args
        if not isinstance(x_node, ast.Name):
            got = self.source.span(x_node).source
            raise self.source.error(
                f"grad's second argument must be a variable name, as in grad(y, x); got `{got}`", x_node
            )
        y_of, x_of = self.compile(y_node), self.compile(x_node)
        fail = self._fail(node, lambda exc, operands: explain("grad", operands, exc))
        return grad_form(y_of, x_of, x_node.id, fail, _FAILURES)


_HANDLERS = {
    ast.Constant: _Compiler._literal,
    ast.Name: _Compiler._name,
    ast.BinOp: _Compiler._binop,
    ast.UnaryOp: _Compiler._unaryop,
    ast.Compare: _Compiler._compare,
    ast.BoolOp: _Compiler._boolop,
    ast.Subscript: _Compiler._subscript,
    ast.Attribute: _Compiler._attribute,
    ast.List: _Compiler._sequence,
    ast.Tuple: _Compiler._sequence,
    ast.Call: _Compiler._call,
}
