"""From text to a checked syntax tree: size limits, Python's parser, and an allow-list.

The text is parsed with :func:`ast.parse` (never compiled to code, never evaluated) and
every node is checked against a short allow-list of expression forms: numbers, names,
operators, comparisons, ``and``/``or``/``not``, indexing and slicing, list and tuple
literals, the attribute ``.T`` and calls of plain names. Everything else (strings,
lambdas, comprehensions, other attributes, dunders, statements...) is refused with a
message that names the construct and its column.

The limits below are checked before any evaluation, so a refusal is always quick.
Whether a called name is in the function table, and whether a variable name is known, is
checked later by the compiler, which knows the table and the allowed names.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from .errors import ExpressionError

__all__ = ["MAX_LENGTH", "MAX_DEPTH", "MAX_NODES", "MAX_INT", "Source", "Span", "parse"]

MAX_LENGTH = 2_000  # characters in one expression
MAX_DEPTH = 40  # nesting of sub-expressions (each operator, call or index is one level)
MAX_NODES = 400  # sub-expressions in one expression
MAX_INT = 2**63 - 1  # integers are int64: literals and integer arithmetic stay within

_BINARY = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@",
}  # fmt: skip
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}

_REFUSED_OPERATORS = {
    ast.BitAnd: "'&' is not supported; write 'and' for a logical and",
    ast.BitOr: "'|' is not supported; write 'or' for a logical or",
    ast.BitXor: "'^' is not supported; write ** for a power",
    ast.LShift: "'<<' is not supported",
    ast.RShift: "'>>' is not supported",
    ast.Invert: "'~' is not supported; write 'not x' for a logical not",
    ast.Is: "'is' is not supported; write == to compare values",
    ast.IsNot: "'is not' is not supported; write != to compare values",
    ast.In: "'in' is not supported",
    ast.NotIn: "'not in' is not supported",
}

_REFUSED_NODES = {
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed: an expression computes numbers and tensors",
    ast.Starred: "starred arguments (*x) are not allowed; write the arguments out",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.IfExp: "if-expressions (a if c else b) are not allowed; write where(c, a, b)",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}

_STATEMENTS = {
    ast.Assign: "assignments (=) are not allowed; write only the right-hand side (== compares)",
    ast.AugAssign: "assignments (+= and the like) are not allowed; write only the value",
    ast.AnnAssign: "assignments are not allowed; write only the value",
    ast.Import: "'import' is not allowed: the available functions are built in",
    ast.ImportFrom: "'import' is not allowed: the available functions are built in",
}

_EXAMPLE = "such as tanh(x @ W + b)"
_LINE = re.compile(r"([^\r\n]*)(?:\r\n|\r|\n|$)")


@dataclass(frozen=True)
class Span:
    """Where a sub-expression sits: 1-based columns (inclusive) and its source text."""

    column: int
    end_column: int
    source: str


class Source:
    """The expression text, mapping parser positions to 1-based columns of the whole text.

    The parser counts columns in UTF-8 bytes per line; the user counts characters from
    the start of the field. Leading blanks are cut before parsing (Python would take
    them for an indent) and added back here.
    """

    def __init__(self, text: str, lead: int = 0):
        self.text = text
        self._lead = lead
        body = text[lead:]
        # Python ends a line at \n, \r\n or a lone \r (str.splitlines would split at more).
        self._lines, self._starts, at = [], [], 0
        for match in _LINE.finditer(body):
            self._lines.append(match.group(1))
            self._starts.append(lead + at)
            at = match.end()
        self._ascii = body.isascii()

    def offset(self, lineno: int, col: int) -> int:
        """0-based character offset in the text of the parser's (line, byte column)."""
        line = self._lines[lineno - 1]
        if not self._ascii:
            col = len(line.encode("utf-8")[:col].decode("utf-8", "replace"))
        return self._starts[lineno - 1] + col

    def column(self, lineno: int | None, offset: int | None) -> int | None:
        """1-based column in the text of a syntax error's (line, 1-based character offset)."""
        if not lineno or not offset or offset < 1 or lineno > len(self._lines):
            return None
        return self._starts[lineno - 1] + min(offset, len(self._lines[lineno - 1]) + 1)

    def span(self, node: ast.AST, tail: int | None = None) -> Span:
        """The span of ``node``, or of its last ``tail`` characters (an attribute's name)."""
        start = self.offset(node.lineno, node.col_offset)
        end = self.offset(node.end_lineno, node.end_col_offset)
        if tail is not None:
            start = max(start, end - tail)
        return Span(start + 1, max(end, start + 1), " ".join(self.text[start:end].split()))

    def error(self, message: str, node: ast.AST | Span | None = None) -> ExpressionError:
        span = node if isinstance(node, Span) or node is None else self.span(node)
        if span is None:
            return ExpressionError(message, text=self.text)
        return ExpressionError(message, span.column, span.end_column, self.text)


def parse(text: str) -> tuple[ast.expr, Source]:
    """Parse and check ``text``; return the expression tree and its :class:`Source`.

    Raises:
        ExpressionError: the text is too long, not one Python expression, too deep or too
            big, or uses a construct outside the allow-list.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text; got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text):,} characters long; at most {MAX_LENGTH:,} are allowed",
            text=text[:80] + "...",
        )
    if not text.strip():
        raise ExpressionError(f"the expression is empty; write one {_EXAMPLE}", text=text)
    lead = len(text) - len(text.lstrip(" \t"))
    source = Source(text, lead)
    tree = _python_parse(text[lead:], source)
    _check_size(tree, source)
    _check_allowed(tree, source)
    return tree, source


def _python_parse(body: str, source: Source) -> ast.expr:
    # Python's tokenizer warns about sloppy text such as "1if x" (SyntaxWarning) or "\\d"
    # in a string. Those are found here, from the tokens, and made errors: changing the
    # warnings filter instead (catch_warnings) is process-wide state, not thread-safe.
    _check_tokens(body, source)
    try:
        return ast.parse(body, mode="eval").body
    except SyntaxError as exc:
        raise _syntax_error(body, exc, source) from None
    except (RecursionError, MemoryError):
        raise source.error(f"the expression nests too deeply (at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:  # e.g. "source code string cannot contain null bytes"
        raise source.error(f"the expression cannot be read: {exc}") from None


_NUMBER_KINDS = (("0x", "hexadecimal"), ("0o", "octal"), ("0b", "binary"))


def _check_tokens(body: str, source: Source) -> None:
    """Refuse what Python's tokenizer only warns about, before it can warn.

    A number run into a keyword (``1if x else 2``, ``0x1for``) and a string with a
    backslash (``"\\d"``): the pure-Python tokenizer (3.11) reads them without a warning.
    """
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(body).readline):
            if token.type == tokenize.STRING and "\\" in token.string:
                raise _token_error(source, token, "strings are not allowed: an expression computes numbers and tensors")
            if (token.type == tokenize.NAME and previous is not None and previous.type == tokenize.NUMBER
                    and previous.end == token.start):
                number = previous.string.lower()
                kind = "imaginary" if number.endswith("j") else next(
                    (k for p, k in _NUMBER_KINDS if number.startswith(p)), "decimal")
                raise _token_error(source, previous, f"invalid {kind} literal: put a space between "
                                   f"'{previous.string}' and '{token.string}'")
            previous = token
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return  # broken text: the parser below says what is wrong


def _token_error(source: Source, token: tokenize.TokenInfo, message: str) -> ExpressionError:
    line, col = token.start
    start = source._starts[line - 1] + col + 1 if line <= len(source._starts) else None
    return ExpressionError(message, start, start, source.text)


def _syntax_error(body: str, exc: SyntaxError, source: Source) -> ExpressionError:
    # A statement ("x = 1", "import os") is a syntax error for an expression; parse the
    # text as statements only to say which one it is (still only parsing, never running).
    try:
        module = ast.parse(body, mode="exec")  # _check_tokens ran: nothing here warns
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        module = None
    if module is not None:
        for statement in module.body:
            if not isinstance(statement, ast.Expr):
                kind = type(statement).__name__.lower()
                message = _STATEMENTS.get(
                    type(statement), f"statements ({kind}) are not allowed; write one expression {_EXAMPLE}"
                )
                return source.error(message, statement)
        if len(module.body) > 1:
            return source.error(
                "write one expression; found several separated by ';' or new lines", module.body[1]
            )
    column = source.column(exc.lineno, exc.offset)
    message = exc.msg or "invalid syntax"
    if message == "invalid syntax":
        message = f"invalid syntax; write one expression {_EXAMPLE}"
    return ExpressionError(message, column, column, source.text)


def _check_size(tree: ast.expr, source: Source) -> None:
    # Iterative walk: the tree may be far deeper than Python's recursion limit here.
    count, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise source.error(
                f"the expression is too big: more than {MAX_NODES} parts; split it into smaller fields"
            )
        if depth > MAX_DEPTH:
            raise source.error(
                f"the expression nests too deeply: more than {MAX_DEPTH} levels (each operator, "
                "call or index is one); simplify it, e.g. sum(stack(a, b, c)) for a long sum",
                node,
            )
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.expr, ast.keyword)):
                stack.append((child, depth + 1))


def _check_allowed(tree: ast.expr, source: Source) -> None:
    # Breadth-first, so the outermost offending construct is the one reported.
    ellipsis_ok = set()
    for node in ast.walk(tree):
        problem = _refusal(node, ellipsis_ok)
        if problem is not None:
            message, where = problem
            if isinstance(node, ast.Attribute):  # point at the attribute's name
                where = source.span(where, tail=len(where.attr))
            raise source.error(message, where)


def _refusal(node: ast.AST, ellipsis_ok: set[int]) -> tuple[str, ast.AST] | None:
    kind = type(node)
    if kind in _REFUSED_NODES:
        return _REFUSED_NODES[kind], node
    if kind is ast.Constant:
        return _constant_refusal(node, ellipsis_ok)
    if kind is ast.Name:
        if node.id.startswith("__"):
            return f"names starting with '__' are not allowed ('{node.id}')", node
        return None
    if kind is ast.Attribute:
        if node.attr != "T":
            return _attribute_refusal(node), node
        return None
    if kind is ast.BinOp:
        return _operator_refusal(node.op, _BINARY, node)
    if kind is ast.UnaryOp:
        return _operator_refusal(node.op, _UNARY, node)
    if kind is ast.Compare:
        for op in node.ops:
            refused = _operator_refusal(op, _COMPARE, node)
            if refused:
                return refused
        return None
    if kind is ast.Call:
        return _call_refusal(node)
    if kind is ast.Subscript:
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        ellipsis_ok.update(id(p) for p in parts if isinstance(p, ast.Constant) and p.value is Ellipsis)
        return None
    if kind in (ast.BoolOp, ast.Tuple, ast.List, ast.Slice, ast.keyword):
        return None
    if isinstance(node, (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)):
        return None  # checked with the node that holds them
    return f"{kind.__name__} is not allowed in an expression", node


def _constant_refusal(node: ast.Constant, ellipsis_ok: set[int]) -> tuple[str, ast.AST] | None:
    value = node.value
    if isinstance(value, bool) or isinstance(value, float):
        return None
    if isinstance(value, int):
        if value > MAX_INT:
            too_large = f"the integer {_short(value)} is too large for int64"
            return f"{too_large}; write it as a float (e.g. 1e30)", node
        return None
    if isinstance(value, (str, bytes)):
        return "strings are not allowed: an expression computes numbers and tensors", node
    if isinstance(value, complex):
        return "complex numbers are not supported", node
    if value is Ellipsis:
        return None if id(node) in ellipsis_ok else ("'...' is only allowed inside an index: x[..., 0]", node)
    return f"{value!r} is not allowed here; write a number", node


def _attribute_refusal(node: ast.Attribute) -> str:
    if node.attr.startswith("__"):
        return f"names starting with '__' are not allowed ('.{node.attr}')"
    if node.attr == "shape":
        return "attribute '.shape' is not available; len(x) gives the first dimension"
    return f"attribute '.{node.attr}' is not allowed; the only attribute is .T (transpose)"


def _operator_refusal(op: ast.AST, allowed: dict, node: ast.AST) -> tuple[str, ast.AST] | None:
    if type(op) in allowed:
        return None
    return _REFUSED_OPERATORS.get(type(op), f"the operator {type(op).__name__} is not supported"), node


def _call_refusal(node: ast.Call) -> tuple[str, ast.AST] | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        from .table import FUNCTIONS  # torch-free; filled when the functions module loads

        example = func.attr if func.attr in FUNCTIONS else "tanh"  # never suggest system(...)
        return f"only table functions can be called, by their plain name: write {example}(...)", func
    if type(func) in _REFUSED_NODES:
        return None  # reported as what it is: (lambda: 1)() is a lambda
    if not isinstance(func, ast.Name):
        return "only functions from the function table can be called, by name, e.g. tanh(x)", func
    for kw in node.keywords:
        if kw.arg is None:
            return "keyword unpacking (**kw) is not allowed; write the keywords out", kw
    return None


def _short(value: int) -> str:
    digits = str(value)
    return digits if len(digits) <= 24 else f"{digits[:10]}...({len(digits)} digits)"


# Symbols for messages, shared with the compiler.
BINARY_SYMBOLS = _BINARY
COMPARE_SYMBOLS = _COMPARE
UNARY_SYMBOLS = _UNARY
