"""Take what does not depend on the state out of a custom cell's loop.

A built-in cell computes its input projection ``x W_ih^T + b`` for every time step in one
matmul before the loop (:mod:`.cells`); a custom cell written ``tanh(x @ W_ih.T + b +
h_tm1 @ W_hh.T)`` would otherwise do it step by step. This module rewrites a step's
expressions (they are Python-syntax text, checked by the expression language before they
get here) into three parts::

    constants   _c0 = W_hh.T                    parameters only: once per forward
    per time    _t0 = x @ W_ih.T + b            x and parameters: once for all T steps at once
    per step    tanh(_t0 + h_tm1 @ _c0)         reads _t0[t]

A subtree is evaluated for all steps at once only when that is the same as step by step:
it is built from ``x``, constants and operations that act row by row whatever leading axes
the operand has (elementwise arithmetic and functions, ``(B, K) @ (K, M)`` with a 2-D
constant on the right), and every constant it combines with ``x`` has at most 2 dimensions,
so broadcasting cannot reach the new time axis. Anything else stays in the loop.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

CONST, TIME, STEP = 0, 1, 2  # what a subtree depends on: parameters only; also x; also the state
ROWWISE_FUNCTIONS = {"tanh", "sigmoid", "relu", "exp", "log", "log1p", "sqrt", "sin", "cos", "abs", "sign",
                     "square", "floor", "ceil", "round"}
ELEMENTWISE_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
PER_CALL = {"rand", "randn", "randint", "bernoulli", "categorical", "grad"}  # draw anew (or differentiate) each call


@dataclass
class Plan:
    """The rewritten step: hoisted expressions in evaluation order, then the per-step texts."""

    constants: list[tuple[str, str]] = field(default_factory=list)  # (name, text) over parameters
    per_time: list[tuple[str, str]] = field(default_factory=list)  # (name, text) over x, parameters, constants
    variables: list[tuple[str, str]] = field(default_factory=list)  # (name, text) left in the loop
    expressions: list[str] = field(default_factory=list)  # one per state, in the loop
    time_variables: set[str] = field(default_factory=set)  # variables computed for all steps at once


class _Rewriter:
    def __init__(self, plan: Plan, params: dict[str, int], kinds: dict[str, int]):
        self.plan, self.params, self.kinds = plan, params, kinds  # params: name -> ndim

    def kind(self, node: ast.AST) -> int:
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in PER_CALL
               for n in ast.walk(node)):
            return STEP  # a random draw per step stays a draw per step
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                 and not (isinstance(n.ctx, ast.Load) and _is_function(node, n))}
        return max((self.kinds.get(n, STEP if n not in self.params else CONST) for n in names), default=CONST)

    def const_ndim(self, node: ast.AST) -> int | None:
        """The ndim of a constant subtree when it is plainly known (a parameter, its .T, a number)."""
        if isinstance(node, ast.Name) and node.id in self.params:
            return self.params[node.id]
        if isinstance(node, ast.Constant):
            return 0
        if isinstance(node, ast.Attribute) and node.attr == "T":
            return self.const_ndim(node.value)
        if isinstance(node, ast.UnaryOp):
            return self.const_ndim(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ELEMENTWISE_OPS):
            sides = (self.const_ndim(node.left), self.const_ndim(node.right))
            return None if None in sides else max(sides)
        return None

    def rowwise(self, node: ast.AST) -> bool:
        """True when evaluating ``node`` (x-dependent) on (T, B, I) equals doing it per step."""
        if self.kind(node) == CONST:
            ndim = self.const_ndim(node)
            return ndim is not None and ndim <= 2
        if isinstance(node, ast.Name):
            return node.id == "x" or self.kinds.get(node.id) == TIME
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return self.rowwise(node.operand)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.MatMult):
                return (self.kind(node.right) == CONST and self.const_ndim(node.right) == 2
                        and self.kind(node.left) == TIME and self.rowwise(node.left))
            if isinstance(node.op, ELEMENTWISE_OPS):
                return all(self.rowwise(side) for side in (node.left, node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ROWWISE_FUNCTIONS:
            return len(node.args) == 1 and not node.keywords and self.rowwise(node.args[0])
        return False

    def hoist(self, node: ast.AST, kind: int) -> ast.Name:
        target = self.plan.constants if kind == CONST else self.plan.per_time
        name = f"_{'c' if kind == CONST else 't'}{len(target)}"
        target.append((name, ast.unparse(node)))
        self.kinds[name] = kind
        return ast.Name(id=name, ctx=ast.Load())

    def visit(self, node: ast.AST) -> ast.AST:
        """``node`` with its largest hoistable subtrees replaced by names."""
        if not isinstance(node, ast.expr) or isinstance(node, (ast.Name, ast.Constant)):
            return node  # operators, contexts, leaves
        kind = self.kind(node)
        if kind == CONST:
            return self.hoist(node, CONST)
        if kind == TIME and self.rowwise(node):
            return self.hoist(node, TIME)
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                setattr(node, name, self.visit(value))
            elif isinstance(value, list):
                setattr(node, name, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
        return node


def plan_step(params: dict[str, int], variables: list[tuple[str, str]], expressions: list[str]) -> Plan:
    """Split a checked step (``params``: parameter name -> ndim) into constants, per-time and per-step parts."""
    plan, kinds = Plan(), {"x": TIME}
    rewriter = _Rewriter(plan, params, kinds)
    for name, text in variables:
        tree = ast.parse(text, mode="eval").body
        kind = rewriter.kind(tree)
        if kind == TIME and rewriter.rowwise(tree) or kind == CONST:
            target = plan.per_time if kind == TIME else plan.constants
            target.append((name, text))
            kinds[name] = kind
            if kind == TIME:
                plan.time_variables.add(name)
            continue
        plan.variables.append((name, ast.unparse(rewriter.visit(tree))))
        kinds[name] = STEP
    for text in expressions:
        plan.expressions.append(ast.unparse(rewriter.visit(ast.parse(text, mode="eval").body)))
    return plan


def _is_function(root: ast.AST, name: ast.Name) -> bool:
    """True when ``name`` is the function of a call inside ``root`` (``tanh`` in ``tanh(a)``)."""
    return any(isinstance(n, ast.Call) and n.func is name for n in ast.walk(root))
