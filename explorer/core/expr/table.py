"""The function table: one record per callable name, and the decorator that fills it.

A function is a Python callable ``impl(ctx, *args, **keywords)``; its record (name,
signature, one-line doc, how many arguments and which keywords it takes) is read from
the callable itself, so the help the GUI shows cannot drift from what runs. Parameters
without a default are positional only; parameters with a default may also be given by
keyword (``sum(x, axis=0)``), keyword-only parameters only by keyword.

The modules :mod:`.functions` and :mod:`.constructors` fill :data:`FUNCTIONS`; importing
the package imports both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace

from .errors import Problem

__all__ = ["Function", "FUNCTIONS", "register"]


@dataclass(frozen=True)
class Function:
    """One callable name of the expression language."""

    name: str
    signature: str  # as shown in help, e.g. "clip(x, lo=None, hi=None)"
    doc: str  # one line
    impl: Callable | None  # impl(ctx, *args, **keywords); None for forms the compiler handles (grad)
    min_args: int  # positional arguments required
    max_args: int | None  # positional arguments accepted at most; None: any number
    keywords: frozenset[str]  # keyword arguments accepted
    positional_names: tuple[str, ...] = ()  # names of the positional parameters, in order
    random: bool = False  # draws from the context's generator
    hint: str = ""  # appended to argument-count errors

    def check_call(self, n_args: int, keywords: list[str]) -> None:
        """Refuse a call with an unknown keyword or the wrong number of arguments."""
        seen = set(self.positional_names[:n_args])
        for key in keywords:
            if key not in self.keywords:
                accepted = ", ".join(sorted(self.keywords)) or "none"
                raise Problem(f"{self.name} has no keyword '{key}' (keywords: {accepted}): {self.signature}")
            if key in seen:
                raise Problem(f"{self.name} got '{key}' twice, by position and by keyword: {self.signature}")
            seen.add(key)
        most = self.max_args
        if n_args < self.min_args or (most is not None and n_args > most):
            if most is None:
                count = f"at least {self.min_args}"
            elif most == self.min_args:
                count = str(most)
            else:
                count = f"{self.min_args} to {most}"
            noun = "argument" if count.endswith(" 1") or count == "1" else "arguments"
            hint = f"; {self.hint}" if self.hint else ""
            raise Problem(
                f"{self.name} takes {count} positional {noun}, got {n_args}: {self.signature}{hint}"
            )


FUNCTIONS: dict[str, Function] = {}


def register(
    name: str | None = None,
    *,
    signature: str | None = None,
    random: bool = False,
    hint: str = "",
    min_args: int | None = None,
) -> Callable[[Callable], Callable]:
    """Add ``impl`` to :data:`FUNCTIONS`; its docstring's first line becomes the doc.

    ``min_args`` overrides the count read from the signature (``stack(*values)`` needs one).
    """

    def add(impl: Callable) -> Callable:
        entry = record(impl, name, signature, random, hint)
        if min_args is not None:
            entry = replace(entry, min_args=min_args)
        FUNCTIONS[entry.name] = entry
        return impl

    return add


def record(impl: Callable, name=None, signature=None, random=False, hint="") -> Function:
    """The :class:`Function` describing ``impl(ctx, ...)``."""
    name = name or impl.__name__.strip("_")
    params = list(inspect.signature(impl).parameters.values())[1:]  # drop ctx
    kinds = inspect.Parameter
    positional = [p for p in params if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    varargs = any(p.kind is kinds.VAR_POSITIONAL for p in params)
    keywords = frozenset(
        p.name
        for p in params
        if p.kind is kinds.KEYWORD_ONLY
        or (p.kind is kinds.POSITIONAL_OR_KEYWORD and p.default is not p.empty)
    )
    shown = [_shown(p) for p in params]
    if not varargs and any(p.kind is kinds.KEYWORD_ONLY for p in params):
        first = next(i for i, p in enumerate(params) if p.kind is kinds.KEYWORD_ONLY)
        shown.insert(first, "*")  # the keywords after it cannot be given by position
    doc = (inspect.getdoc(impl) or "").strip().splitlines()
    return Function(
        name=name,
        signature=signature or f"{name}({', '.join(shown)})",
        doc=doc[0] if doc else "",
        impl=impl,
        min_args=len(required),
        max_args=None if varargs else len(positional),
        keywords=keywords,
        positional_names=tuple(p.name for p in positional),
        random=random,
        hint=hint,
    )


def _shown(p: inspect.Parameter) -> str:
    if p.kind is inspect.Parameter.VAR_POSITIONAL:
        return f"*{p.name}"
    return p.name if p.default is inspect.Parameter.empty else f"{p.name}={p.default!r}"
