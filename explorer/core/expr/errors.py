"""The one error the expression language raises, and the small internal signal its parts
use to complain before they know where in the text they are.

``ExpressionError`` is what callers see: a message that reads well on its own, plus the
1-based column span so the GUI can underline the offending part of the field.
``Problem`` is raised by functions and operators (which do not know their position); the
compiled node that called them turns it into an ``ExpressionError`` with the column and
the source text of the sub-expression.
"""

from __future__ import annotations

from ..errors import ExplorerError

__all__ = ["ExpressionError", "Problem"]


class ExpressionError(ExplorerError):
    """An expression that cannot be compiled or evaluated as written.

    Attributes:
        message: what is wrong and how to fix it (without the column).
        column: 1-based column of the first character at fault, or None.
        end_column: 1-based column of the last character at fault (inclusive), or None.
        text: the whole expression text.
    """

    def __init__(
        self,
        message: str,
        column: int | None = None,
        end_column: int | None = None,
        text: str | None = None,
    ):
        self.message = message
        self.column = column
        self.end_column = end_column if end_column is not None else column
        self.text = text
        super().__init__(f"column {column}: {message}" if column else message)

    def __reduce__(self):  # keep the attributes when sent across processes
        return (type(self), (self.message, self.column, self.end_column, self.text))


class Problem(Exception):
    """Internal: a function or operator refuses its operands; the caller adds the place.

    Deliberately not a ``ValueError``, so it never gets mistaken for a torch error or an
    already placed ``ExpressionError``.
    """

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)
